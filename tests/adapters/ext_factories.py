"""Shared builders for the integration tests (a unique module name, unlike conftest)."""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from domain.reasons import DomainError, Reason
from integrations.financial import PaymentRecord, PaymentRequest
from integrations.transactions_api import ContractInfo, InMemoryTransactionsSystem, StatementInfo

COMPANY_ID = "10101234565"
OTHER_COMPANY_ID = "10107654320"
CEO_ID = "0012345679"
ECONOMIC_CODE = "411122223333"

SIGNED_XML = (b'<?xml version="1.0" encoding="UTF-8"?>'
              b'<statement id="s1"><payable>1000</payable>'
              b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></statement>')


def make_contract(code: str = "C-1400-0001", stage: str = "final", **changes: object) -> ContractInfo:
    fields: dict[str, object] = dict(code=code, tracking_number=f"T-{code}", unit="district-12", stage=stage,
                                     amount_rial=1_395_000_000, budget_line="BL-201-05",
                                     expense_factor="EF-12-03", contractor_company_id=COMPANY_ID,
                                     title="آسفالت معابر منطقهٔ ۱۲")
    fields.update(changes)
    return ContractInfo(**fields)  # type: ignore[arg-type]


def make_statement(sid: str = "s1", contract_code: str = "C-1400-0001", **changes: object) -> StatementInfo:
    fields: dict[str, object] = dict(id=sid, contract_code=contract_code, result="approved",
                                     payable_rial=312_750_000, signed_by_contractor=True,
                                     signed_by_treasurer=True, signed_xml=SIGNED_XML)
    fields.update(changes)
    return StatementInfo(**fields)  # type: ignore[arg-type]



def make_contract_data(code: str = "C-1400-0001", **changes: object) -> dict:
    """Everything the transparency site shows for one contract, as the engine would pass it."""
    from datetime import datetime, timezone

    document = b"%PDF-1.4 contract"
    data: dict = {
        "contract_code": code,
        "tender_id": "TND-1400-0042",
        "title": "آسفالت معابر منطقهٔ ۱۲",
        "unit": "district-12",
        "unit_name": "شهرداری منطقهٔ ۱۲",
        "threshold_class": "medium",
        "selection_method": "tender",
        "date_signed": datetime(2021, 7, 20, 7, 0, tzinfo=timezone.utc),
        "amount_rial": 1_395_000_000,
        "budget_line": "BL-201-05",
        "expense_factor": "EF-12-03",
        "contractor": {"national_id": COMPANY_ID, "name": "شرکت راه‌سازان البرز",
                       "economic_code": ECONOMIC_CODE, "grade": 2, "ceo_name": "مریم احمدی",
                       "signatories": ["مریم احمدی", "رضا کریمی"]},
        "employer_signatories": [{"name": "حسن موسوی", "role": "شهردار منطقه"},
                                 {"name": "زهرا رضایی", "role": "ذی‌حساب"}],
        "commission_members": [{"name": "حسن موسوی", "role": "chair"},
                               {"name": "علی نوری", "role": "finance"},
                               {"name": "سارا جعفری", "role": "technical"}],
        "supervisor": {"id": "SUP-17", "name": "مهندسین مشاور پارس"},
        "documents": [{"title": "متن قرارداد", "url": "https://shafaf.tehran.ir/docs/C-1400-0001.pdf",
                       "sha256": hashlib.sha256(document).hexdigest(), "format": "application/pdf",
                       "content": document}],
    }
    data.update(changes)
    return data


def refusal(call: Callable[..., Any], *args: Any) -> DomainError:
    """The DomainError `call(*args)` raises (the test fails when it raises none)."""
    with pytest.raises(DomainError) as exc:
        call(*args)
    return exc.value


def reason_of(call: Callable[..., Any], *args: Any) -> Reason:
    """The reason code of the DomainError `call(*args)` raises."""
    return refusal(call, *args).reason


def make_payment_request(**changes: Any) -> PaymentRequest:
    """A request to pay statement s1 of contract C-1400-0001 in full, on the contract's own lines."""
    fields: dict[str, Any] = dict(payment_key="p1", contract_code="C-1400-0001", statement_id="s1",
                                  budget_line="BL-201-05", expense_factor="EF-12-03",
                                  amount_rial=make_statement().payable_rial)
    fields.update(changes)
    return PaymentRequest(**fields)


class Rendezvous(InMemoryTransactionsSystem):
    """The transactions system with make_contract() and make_statement(), where `parties` requests
    each wait for the others after reading the statement: all pass every check before any writes."""

    def __init__(self, parties: int = 2) -> None:
        super().__init__()
        self._barrier = threading.Barrier(parties)
        self.put_contract(make_contract())
        self.put_statement(make_statement())

    def statement(self, statement_id: str) -> StatementInfo | None:
        found = super().statement(statement_id)
        self._barrier.wait(timeout=10)
        return found


def pay_concurrently(stubs: Sequence[Any]) -> list[PaymentRecord | Reason]:
    """Stub i pays statement s1 under key p<i>, all at once (one thread each); per stub, the record or
    the refusal reason."""
    outcomes: list[PaymentRecord | Reason | None] = [None] * len(stubs)

    def attempt(i: int) -> None:
        try:
            outcomes[i] = stubs[i].pay(make_payment_request(payment_key=f"p{i}"))
        except DomainError as err:
            outcomes[i] = err.reason

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(stubs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return [o for o in outcomes if o is not None]
