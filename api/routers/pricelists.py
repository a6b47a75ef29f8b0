"""Price lists and formulas approved by token (R09; issue 11 part 3).

    POST /v1/pricelists                                          operator: signed PriceListImport
    GET  /v1/pricelists/{list_id}/versions/{version}             any session: items, digest, approval
    POST /v1/pricelists/{list_id}/versions/{version}/approval    deputy: signed PriceListApproval
    GET  /v1/formulas/{formula_id}/versions/{version}            any session: the policy's text, approval
    POST /v1/formulas/{formula_id}/versions/{version}/approval   deputy: signed FormulaApproval

Roles (registry, for the session's unit and day): the unit's contracts officer imports
(services.pricelists.OPERATOR_ROLE), the responsible deputy approves (APPROVER_ROLE). Every
state-changing body is a document signed on the actor's token, verified at receipt (api.signed).
"""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from starlette.concurrency import run_in_threadpool

from api.context import get_deps
from api.security import Actor, current_actor, require_role
from api.signed import SIGNED_XML_BODY, signed_request
from domain.documents.pricelist import read_formula_approval, read_price_list_approval
from domain.reasons import DomainError, Reason
from services import pricelists as svc
from services.deps import Deps

router = APIRouter(prefix="/v1", tags=["price lists and formulas / فهرست بها و فرمول‌ها"])
DepsParam = Annotated[Deps, Depends(get_deps)]
VersionParam = Annotated[int, Path(ge=1, le=1_000_000, description="نسخه — version")]

_SIGNED_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "MALFORMED_XML, SIGNATURE_INVALID, CERT_UNTRUSTED, CERT_EXPIRED, CERT_REVOKED, "
                         "SIGNING_TIME_SKEW — {reason, message_fa, detail}"},
    401: {"description": "NOT_AUTHENTICATED — بدون نشست یا سند امضانشده / no session or an unsigned document"},
    403: {"description": "NOT_AUTHORISED — سمت لازم در ثبت سمت‌ها نیست / the registry does not give the role"},
    404: {"description": "NOT_FOUND"},
    413: {"description": "REQUEST_TOO_LARGE"},
    422: {"description": "INVALID_INPUT, AMOUNT_OUT_OF_RANGE"},
}
_READ_ERRORS: dict[int | str, dict[str, Any]] = {401: _SIGNED_ERRORS[401], 404: _SIGNED_ERRORS[404]}


@router.post(
    "/pricelists", status_code=201, openapi_extra=SIGNED_XML_BODY, responses=_SIGNED_ERRORS,
    summary="ورود نسخهٔ فهرست بها — Import a price-list version",
    description="بدنه: سند PriceListImport (شناسه، نسخه، حوزه: خدمات شهری، فضای سبز، فنی و عمرانی؛ ردیف‌ها با بهای "
                "واحد به ریال) امضاشده با توکن کارشناس قراردادهای واحد. نسخهٔ واردشده تا تصویب معاون با امضای توکن "
                "برای هیچ مناقصه‌ای به کار نمی‌رود (R09). ورود دوبارهٔ همان محتوا بی‌اثر است؛ تغییر فقط با نسخهٔ تازه.\n\n"
                "Body: a PriceListImport document (id, version, domain: urban services, green space, technical and "
                "civil; items with unit prices in rials) signed on the unit's contracts officer's token. An imported "
                "version prices no tender until the deputy approves it by token signature (R09). Importing the same "
                "content again is a no-op; a change needs a new version.")
async def import_price_list(request: Request, actor: Annotated[Actor, Depends(require_role(svc.OPERATOR_ROLE))],
                            deps: DepsParam) -> dict[str, Any]:
    doc = await signed_request(request, "PriceListImport")
    return (await run_in_threadpool(svc.import_price_list, deps, doc)).to_dict()


@router.get(
    "/pricelists/{list_id:path}/versions/{version}", responses=_READ_ERRORS,
    summary="یک نسخهٔ فهرست بها — A price-list version",
    description="ردیف‌ها، چکیدهٔ ردیف‌ها (همان که تصویب به آن اشاره می‌کند)، واردکننده و تصویب (امضاکننده، گواهی، "
                "شمارهٔ مصوبهٔ شورای فنی) یک نسخهٔ فهرست بها.\n\n"
                "The items of a price-list version, their digest (the value an approval names), who imported it and "
                "its approval (signer, certificate, the technical council's reference).")
def get_price_list(list_id: str, version: VersionParam, deps: DepsParam,
                   actor: Annotated[Actor, Depends(current_actor())]) -> dict[str, Any]:
    return svc.price_list_status(deps, list_id, version).to_dict()


def _same(path: tuple[str, int], stated: tuple[str, int]) -> None:
    if path != stated:
        raise DomainError(Reason.INVALID_INPUT, f"سند به «{stated[0]}» نسخهٔ {stated[1]} اشاره می‌کند، نه "
                                                f"«{path[0]}» نسخهٔ {path[1]}")


@router.post(
    "/pricelists/{list_id:path}/versions/{version}/approval", openapi_extra=SIGNED_XML_BODY,
    responses=_SIGNED_ERRORS,
    summary="تصویب نسخهٔ فهرست بها با امضای معاون — Approve a price-list version by the deputy's token",
    description="بدنه: سند PriceListApproval با چکیدهٔ ردیف‌ها و شمارهٔ مصوبهٔ شورای فنی، امضاشده با توکن معاون "
                "مسئول. سامانه امضا را در زمان دریافت می‌سنجد، چکیده را با محتوای واردشده مقایسه می‌کند و تصویب را با "
                "امضاکننده و شمارهٔ مصوبه ثبت می‌کند؛ از آن پس این نسخه برای برآورد مناقصه‌ها به کار می‌رود (R09). "
                "واردکننده نمی‌تواند خود تصویب کند.\n\n"
                "Body: a PriceListApproval naming the items digest and the technical council's reference, signed on "
                "the responsible deputy's token. The engine verifies it at receipt, compares the digest with the "
                "imported content and records the approval with its signer and reference; from then on the version "
                "prices tenders (R09). The importer cannot approve their own import.")
async def approve_price_list(list_id: str, version: VersionParam, request: Request,
                             actor: Annotated[Actor, Depends(require_role(svc.APPROVER_ROLE))],
                             deps: DepsParam) -> dict[str, Any]:
    doc = await signed_request(request, "PriceListApproval")
    stated = read_price_list_approval(doc.root)
    _same((list_id, version), (stated.list_id, stated.version))
    return (await run_in_threadpool(svc.approve_price_list, deps, doc)).to_dict()


@router.get(
    "/formulas/{formula_id}/versions/{version}", responses=_READ_ERRORS,
    summary="یک نسخهٔ فرمول — A formula version",
    description="متن نسخهٔ فرمول در سیاست نسخه‌دار (برآورد، قیمت نامتعارف، تضمین، ...)، چکیدهٔ آن و تصویبش.\n\n"
                "The expression of a formula version in the versioned policy (estimate, abnormally low, guarantee, "
                "...), its digest and its approval.")
def get_formula(formula_id: str, version: VersionParam, deps: DepsParam,
                actor: Annotated[Actor, Depends(current_actor())]) -> dict[str, Any]:
    return svc.formula_status(deps, formula_id, version).to_dict()


@router.post(
    "/formulas/{formula_id}/versions/{version}/approval", openapi_extra=SIGNED_XML_BODY, responses=_SIGNED_ERRORS,
    summary="تصویب نسخهٔ فرمول با امضای معاون — Approve a formula version by the deputy's token",
    description="بدنه: سند FormulaApproval با متن فرمول (همان متن سیاست) و شمارهٔ مصوبهٔ شورای فنی، امضاشده با توکن "
                "معاون مسئول. فقط معاون مسئول فرمول را تصویب می‌کند و مصوبهٔ شورای فنی ثبت می‌شود (R09)؛ فرمول "
                "تصویب‌نشده در هیچ مناقصه‌ای به کار نمی‌رود.\n\n"
                "Body: a FormulaApproval stating the expression (the policy's) and the technical council's reference, "
                "signed on the responsible deputy's token. Only the responsible deputy approves formulas and the "
                "council's approval is recorded (R09); an unapproved formula is used by no tender.")
async def approve_formula(formula_id: str, version: VersionParam, request: Request,
                          actor: Annotated[Actor, Depends(require_role(svc.APPROVER_ROLE))],
                          deps: DepsParam) -> dict[str, Any]:
    doc = await signed_request(request, "FormulaApproval")
    stated = read_formula_approval(doc.root)
    _same((formula_id, version), (stated.formula_id, stated.version))
    return (await run_in_threadpool(svc.approve_formula, deps, doc)).to_dict()
