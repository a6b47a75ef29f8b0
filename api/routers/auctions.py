"""Online auctions (حراج) from the operators' and the bidders' stations (issue 14 part 1;
tender-rules.md `online_auction`).

    POST /v1/auctions                     the unit's contracts officer: signed AuctionRequest (window,
                                          increment) on an announced auction
    GET  /v1/auctions/{id}                public: best price, least next offer, close, extensions, status
                                          (never who offered)
    POST /v1/auctions/{id}/guarantee      the company's signatory: signed AuctionGuarantee (envelope A)
    POST /v1/auctions/{id}/offers         the company's signatory: signed AuctionOffer

Every state-changing body is a document signed on the actor's token, verified at receipt
(api.signed); guarantees and offers are judged on the engine's clock at receipt and answered with the
engine's signed receipt (XML), or refused with their reason code (AUCTION_CLOSED, OFFER_TOO_LOW,
BELOW_BASE_PRICE, GUARANTEE_MISSING, GUARANTEE_INSUFFICIENT, GUARANTEE_EXPIRES_EARLY, ...).
"""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.context import get_deps
from api.security import Actor, require_role
from api.signed import SIGNED_XML_BODY, signed_request
from domain.reasons import DomainError, Reason
from services import auction as svc
from services.auction.offers import Received
from services.deps import Deps
from services.pricelists import OPERATOR_ROLE
from services.signers import COMPANY_SIGNATORY

router = APIRouter(prefix="/v1", tags=["online auctions / حراج"])
DepsParam = Annotated[Deps, Depends(get_deps)]
XML = "application/xml"
SEQ_HEADER = "X-Eproc-Receipt-Seq"
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "OFFER_TOO_LOW, BELOW_BASE_PRICE, GUARANTEE_MISSING, GUARANTEE_INSUFFICIENT, "
                         "GUARANTEE_EXPIRES_EARLY, MALFORMED_XML, SIGNATURE_INVALID, CERT_*, SIGNING_TIME_SKEW — "
                         "{reason, message_fa, detail}"},
    401: {"description": "NOT_AUTHENTICATED"},
    403: {"description": "NOT_AUTHORISED"},
    404: {"description": "NOT_FOUND"},
    409: {"description": "AUCTION_CLOSED, BID_NOT_OWNED, DUPLICATE_BID, WRONG_STAGE"},
    422: {"description": "INVALID_INPUT"},
}
_XML_OK: dict[str, Any] = {"content": {XML: {"schema": {"type": "string"}}}}


def _answer(received: Received) -> Response:
    if not received.accepted or received.receipt_xml is None:
        raise DomainError(received.reason or Reason.INVALID_INPUT, received.detail)
    return Response(received.receipt_xml, media_type=XML, status_code=201,
                    headers={SEQ_HEADER: str(received.seq)})


@router.post(
    "/auctions", status_code=201, openapi_extra=SIGNED_XML_BODY, responses=_ERRORS,
    summary="ثبت حراج برخط — Register an online auction",
    description="بدنه: سند AuctionRequest (بازهٔ حراج و در صورت نیاز حداقل افزایش) امضاشده با توکن کارشناس قراردادهای "
                "واحد، برای مزایده‌ای که آگهی‌اش منتشر شده است. قیمت پایه برآورد مزایده است؛ حداقل افزایش پیش‌فرض از "
                "سیاست (۱٪ قیمت پایه، رو به بالا).\n\n"
                "Body: an AuctionRequest (the window, optionally the minimum increment) signed on the token of the "
                "unit's contracts officer, for an auction whose notice is published. The base price is the "
                "auction's estimate; the default increment comes from the policy (1% of the base price, rounded up).")
async def register(request: Request, deps: DepsParam,
                   _actor: Annotated[Actor, Depends(require_role(OPERATOR_ROLE))]) -> dict[str, Any]:
    doc = await signed_request(request, "AuctionRequest")
    terms = await run_in_threadpool(svc.register_auction, deps, doc)
    return await run_in_threadpool(svc.public_state, deps, terms.tender_id)


@router.get(
    "/auctions/{tender_id}", responses={404: _ERRORS[404]},
    summary="وضعیت حراج — The auction now",
    description="بهترین قیمت فعلی، کمترین پیشنهاد پذیرفتنی بعدی، زمان پایان با تمدیدها و وضعیت (not_open، open، "
                "closed). هرگز نام پیشنهاددهندهٔ بهترین قیمت را نمی‌گوید. همگانی.\n\n"
                "The current best price, the least acceptable next offer, the close with its extensions and the "
                "status (not_open, open, closed). Never who offered the best price. Public.")
def show(tender_id: str, deps: DepsParam) -> dict[str, Any]:
    return svc.public_state(deps, tender_id)


@router.post(
    "/auctions/{tender_id}/guarantee", status_code=201, openapi_extra=SIGNED_XML_BODY,
    responses={201: _XML_OK, **_ERRORS}, response_class=Response,
    summary="سپردن تضمین شرکت در حراج — Lodge the bid guarantee",
    description="بدنه: سند AuctionGuarantee امضاشده با توکن امضاکنندهٔ مجاز شرکت. تضمین با قاعدهٔ پاکت الف سنجیده "
                "می‌شود و تا پذیرفته نشود پیشنهادی پذیرفته نمی‌شود. پاسخ: رسید امضاشدهٔ سامانه (XML).\n\n"
                "Body: an AuctionGuarantee signed on the token of the company's signatory. It is judged by "
                "envelope A's rule; no offer is accepted before it is. Answer: the engine's signed receipt (XML).")
async def guarantee(tender_id: str, request: Request, deps: DepsParam,
                    _actor: Annotated[Actor, Depends(require_role(COMPANY_SIGNATORY))]) -> Response:
    doc = await signed_request(request, "AuctionGuarantee")
    return _answer(await run_in_threadpool(svc.lodge_guarantee, deps, tender_id, doc))


@router.post(
    "/auctions/{tender_id}/offers", status_code=201, openapi_extra=SIGNED_XML_BODY,
    responses={201: _XML_OK, **_ERRORS}, response_class=Response,
    summary="پیشنهاد قیمت در حراج — Make an offer",
    description="بدنه: سند AuctionOffer امضاشده با توکن امضاکنندهٔ مجاز شرکت. در زمان دریافت سامانه سنجیده می‌شود: "
                "پس از پایان AUCTION_CLOSED، کمتر از بهترین قیمت به‌اضافهٔ حداقل افزایش OFFER_TOO_LOW، کمتر از قیمت پایه "
                "BELOW_BASE_PRICE، بی تضمین پذیرفته GUARANTEE_MISSING. پیشنهادی در دقایق پایانی پایان را تمدید می‌کند. "
                "پاسخ: رسید امضاشده با زمان پایان پس از آن.\n\n"
                "Body: an AuctionOffer signed on the token of the company's signatory, judged at the engine's "
                "receipt time: after the close AUCTION_CLOSED, below the best plus the increment OFFER_TOO_LOW, below "
                "the base price BELOW_BASE_PRICE, without an accepted guarantee GUARANTEE_MISSING. An offer in the "
                "last minutes extends the close. Answer: the signed receipt stating the close after it.")
async def offer(tender_id: str, request: Request, deps: DepsParam,
                _actor: Annotated[Actor, Depends(require_role(COMPANY_SIGNATORY))]) -> Response:
    doc = await signed_request(request, "AuctionOffer")
    return _answer(await run_in_threadpool(svc.submit_offer, deps, tender_id, doc))

