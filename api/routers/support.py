"""The support channel for districts and contractors (R26), at each person's station with their own
session; every message is a SupportMessage signed on the author's token (api.signed).

    POST /v1/support/requests                  anyone with a session: SupportMessage(open, subject, text)
    GET  /v1/support/requests[?status=open]    the session's own requests (the support desk: all)
    GET  /v1/support/requests/{id}             one request and its reply trail (requester or support)
    POST /v1/support/requests/{id}/messages    requester or support: SupportMessage(reply|close)
    GET  /v1/notifications                     the session's company's portal inbox (company_signatory)

Services: services.support, services.notify.
"""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from api.context import get_deps
from api.security import Actor, current_actor
from api.signed import SIGNED_XML_BODY, signed_request
from domain.reasons import DomainError, Reason
from services import support as svc
from services.deps import Deps
from services.signers import COMPANY_SIGNATORY

router = APIRouter(prefix="/v1", tags=["support / پشتیبانی"])
DepsParam = Annotated[Deps, Depends(get_deps)]
ActorParam = Annotated[Actor, Depends(current_actor())]

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "MALFORMED_XML, SIGNATURE_INVALID, CERT_UNTRUSTED, CERT_EXPIRED, CERT_REVOKED, "
                         "SIGNING_TIME_SKEW — {reason, message_fa, detail}"},
    401: {"description": "NOT_AUTHENTICATED — بدون نشست / no session"},
    403: {"description": "NOT_AUTHORISED — درخواست از آنِ شما نیست / not your request"},
    404: {"description": "NOT_FOUND — درخواست نیست / no such request"},
    409: {"description": "WRONG_STAGE — درخواست بسته شده است / the request is closed"},
    422: {"description": "INVALID_INPUT, FIELD_MISSING"},
}


def _who(actor: Actor) -> svc.Who:
    return svc.Who(actor.national_id, actor.role, actor.unit)


@router.post(
    "/support/requests", status_code=201, openapi_extra=SIGNED_XML_BODY, responses=_ERRORS,
    summary="گشودن درخواست پشتیبانی — Open a support request",
    description="بدنه: سند SupportMessage (اقدام open، موضوع، متن) امضاشده با توکن شخص نشست؛ کارکنان واحدها و "
                "امضاکنندهٔ پیمانکاران (R26). تکرار همان سند بی‌اثر است.\n\n"
                "Body: a SupportMessage (action open, subject, text) signed on the session person's token; "
                "districts' staff and contractors' signatories (R26). The same document again is idempotent.")
async def open_request(request: Request, deps: DepsParam, actor: ActorParam) -> dict[str, Any]:
    doc = await signed_request(request, svc.KIND)
    data: dict[str, Any] = await run_in_threadpool(svc.open_request, deps, doc)
    return data


@router.get(
    "/support/requests", responses=_ERRORS,
    summary="درخواست‌های پشتیبانی — Support requests",
    description="درخواست‌های خود شخص نشست، تازه‌ترین نخست؛ برای سمت support همهٔ درخواست‌ها. `status`: open، "
                "answered یا closed.\n\nThe session person's own requests, newest first; every request for the "
                "`support` role. `status`: open, answered or closed.")
async def list_requests(deps: DepsParam, actor: ActorParam, status: str | None = None) -> dict[str, Any]:
    items = await run_in_threadpool(svc.requests_for, deps, _who(actor), status)
    return {"count": len(items), "requests": items}


@router.get(
    "/support/requests/{request_id}", responses=_ERRORS,
    summary="درخواست و روند پاسخ‌ها — A request and its reply trail",
    description="هر پیام با نویسنده (کد ملی، سمت، واحد)، زمان UTC و جلالی و چکیدهٔ سند امضاشده.\n\n"
                "Each message with its author (national ID, role, unit), UTC and Jalali time and the SHA-256 "
                "of the signed document.")
async def show_request(request_id: int, deps: DepsParam, actor: ActorParam) -> dict[str, Any]:
    data: dict[str, Any] = await run_in_threadpool(svc.request_view, deps, request_id, _who(actor))
    return data


@router.post(
    "/support/requests/{request_id}/messages", status_code=201, openapi_extra=SIGNED_XML_BODY, responses=_ERRORS,
    summary="پاسخ یا بستن درخواست — Reply to or close a request",
    description="بدنه: سند SupportMessage (reply یا close، شمارهٔ درخواست، متن) امضاشده با توکن درخواست‌کننده یا "
                "سمت support. پاسخ پشتیبانی وضعیت را «پاسخ داده شده» می‌کند و به پیمانکار پیامک می‌رود.\n\n"
                "Body: a SupportMessage (reply or close, the request id, text) signed by the requester or the "
                "`support` role. A support reply makes it `answered` and texts a contractor requester.")
async def post_message(request_id: int, request: Request, deps: DepsParam, actor: ActorParam) -> dict[str, Any]:
    doc = await signed_request(request, svc.KIND)
    data: dict[str, Any] = await run_in_threadpool(svc.add_message, deps, request_id, doc)
    return data


@router.get(
    "/notifications", responses=_ERRORS,
    summary="صندوق پیام‌های پیمانکار در درگاه — The contractor's portal inbox",
    description="پیام‌هایی که سامانه به شرکت نشست (امضاکنندهٔ پیمانکار) فرستاده است (R26).\n\n"
                "The messages the system sent the session's company (its signatory) (R26).")
async def notifications(deps: DepsParam, actor: ActorParam) -> dict[str, Any]:
    if actor.role != COMPANY_SIGNATORY:
        raise DomainError(Reason.NOT_AUTHORISED, "صندوق پیام‌ها از آنِ امضاکنندهٔ پیمانکار است")
    if deps.notifier is None:
        return {"count": 0, "messages": []}
    rows = await run_in_threadpool(deps.notifier.outbox, actor.unit)
    items = [{"template": r.template, "text": r.text, "status": r.status, "created_at": r.created_at.isoformat()}
             for r in rows]
    return {"count": len(items), "messages": items}
