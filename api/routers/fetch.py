"""What an outside system fetches by code beyond the contract itself (issue 13 part 4, R28, R29).

`GET /v1/contracts/{code}/registration`: the contract's registration as the financial system checks
it when the contract is notified to the contractor and at every payment (stage, budget line with its
general code from the unit's registry, expense factor and whether the committee approved it,
budget-allocation code). The contract and its statements themselves are `GET /v1/contracts/{code}`
and `GET /v1/statements/{id}` (api.routers.publication).

Who may read: the same as the contract by code. Every route takes `reader = Depends(outside_system)`,
the one hook where api.security puts the outside systems' authentication (today it lets every caller
through: these are the fields the transparency site publishes with the contract, R21, R28).
"""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from api.context import get_deps
from api.routers.publication import ReaderParam
from domain.reasons import DomainError, Reason
from services.deps import Deps
from services.transactions_view import StoreTransactionsSystem

router = APIRouter(prefix="/v1")

DepsParam = Annotated[Deps, Depends(get_deps)]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "NOT_FOUND: یافت نشد / not found (JSON {reason, message_fa, detail})"}}


@router.get(
    "/contracts/{code}/registration", tags=["outside systems"], responses=_NOT_FOUND,
    summary="A contract's registration by code / ثبت کامل قرارداد با کد قرارداد",
    description="آنچه سامانهٔ مالی هنگام ابلاغ قرارداد به پیمانکار و در هر پرداخت می‌سنجد (R28، R29): مرحله، "
                "ردیف بودجه و کد کلان آن در فهرست ردیف‌های واحد، عامل هزینه و تصویب آن در کمیته، کد تأمین "
                "اعتبار. قراردادی که کد ندارد از این راه یافت نمی‌شود.\n\n"
                "What the financial system checks when the contract is notified to the contractor and at every "
                "payment (R28, R29): stage, budget line and its general code in the unit's registry, expense "
                "factor and its committee approval, budget-allocation code. A contract without a code is not "
                "found here.")
def get_registration(code: str, deps: DepsParam, reader: ReaderParam) -> dict[str, Any]:
    found = StoreTransactionsSystem(deps.sessions).registration(code)
    if found is None or found.code != code.strip():
        raise DomainError(Reason.NOT_FOUND, f"قراردادی با کد «{code}» در سامانهٔ معاملات نیست")
    return found.to_dict()
