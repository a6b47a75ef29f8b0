"""Tenders from the operators' and the bidders' stations (issue 11 parts 3 and 4; R02, R07, R08).

    POST /v1/tenders                           operator: signed TenderRequest (the tender file)
    GET  /v1/tenders/{id}                      status (a tender not yet announced: operators of its unit)
    GET  /v1/tenders/{id}/notice/draft         operator or signatory of its unit: the notice to sign
    POST /v1/tenders/{id}/notice               the unit's authorised signatory: the signed notice (the
                                               server then schedules the tender's run at the opening time)
    GET  /v1/tenders/{id}/notice               public: the published notice (signatory + engine)
    POST /v1/tenders/{id}/bids                 the company's signatory: the sealed bid file, streamed
    GET  /v1/trust/ca                          public: the municipal CA certificate (PEM)

Roles come from the registry for the session's unit and day: the unit's contracts officer creates
(services.pricelists.OPERATOR_ROLE), the commission's chair signs the notice as the unit's authorised
signatory (services.tender.files.NOTICE_SIGNATORY), a company's registered signatory submits its bids
(services.signers.COMPANY_SIGNATORY, unit = the company's national ID).
"""
from __future__ import annotations

import logging
import threading
import weakref
from typing import Annotated, Any

from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy.orm import sessionmaker
from starlette.concurrency import run_in_threadpool

from api.context import get_deps
from api.security import Actor, actor_of, bearer, require_role
from api.signed import SIGNED_XML_BODY, signed_request
from api.streaming import spooled
from domain.documents.notice import read_notice
from domain.reasons import DomainError, Reason
from services.deps import Deps
from services.signers import COMPANY_SIGNATORY
from services.tender import files, progress
from services.tender.submission import submit_bid

router = APIRouter(prefix="/v1", tags=["tenders / مناقصه‌ها"])
DepsParam = Annotated[Deps, Depends(get_deps)]
XML = "application/xml"
RUN_ID_HEADER = "X-Eproc-Run-Id"  # the tender's run, scheduled at the opening time by the server
RUN_AT_HEADER = "X-Eproc-Run-Scheduled-For"  # ISO 8601, UTC
SCHEDULE_PROBLEM_HEADER = "X-Eproc-Schedule-Problem"
log = logging.getLogger(__name__)

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "MALFORMED_XML, SIGNATURE_INVALID, CERT_*, SIGNING_TIME_SKEW, BIDDER_SIGNATURE_INVALID, "
                         "ENVELOPE_TAMPERED, POLICY_INVALID, QUORUM_NOT_MET, SECURITY_REP_ABSENT — "
                         "{reason, message_fa, detail}"},
    401: {"description": "NOT_AUTHENTICATED — بدون نشست یا سند امضانشده / no session or an unsigned document"},
    403: {"description": "NOT_AUTHORISED — سمت لازم در ثبت سمت‌ها نیست / the registry does not give the role"},
    404: {"description": "NOT_FOUND, UNKNOWN_UNIT"},
    409: {"description": "LATE_SUBMISSION, BID_NOT_OWNED, WRONG_STAGE"},
    413: {"description": "REQUEST_TOO_LARGE"},
    422: {"description": "INVALID_INPUT (dates out of order, a window too short, not approved, ...)"},
}
_XML_OK: dict[str, Any] = {"content": {XML: {"schema": {"type": "string"}}}}
BID_BODY = {
    "requestBody": {
        "required": True,
        "description": "پروندهٔ پیشنهاد مهروموم‌شدهٔ eproc bid seal، همان‌گونه که هست (جریانی) — the sealed bid file "
                       "written by `eproc bid seal`, as it is (streamed)",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _xml(data: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(content=data, media_type=XML, status_code=status, headers=headers)


@router.post(
    "/tenders", status_code=201, openapi_extra=SIGNED_XML_BODY, responses=_ERRORS,
    summary="ساخت مناقصه از پروندهٔ مناقصه — Create a tender from a tender file",
    description="بدنه: سند TenderRequest که پروندهٔ مناقصه (TOML: کلیدهای [tender] و [[commission]] سناریو، با "
                "شناسهٔ مناقصه و [price_list]) را بی‌کم‌وکاست دارد، امضاشده با توکن کارشناس قراردادهای همان واحد. "
                "سامانه تاریخ‌ها، سمت اعضای کمیسیون در ثبت سمت‌ها، تصویب فهرست بها و فرمول‌ها با امضای معاون (R09) و "
                "نصاب را می‌سنجد، برآورد را حساب می‌کند و کلید بازگشایی را میان گواهی‌های اعضای کمیسیون تقسیم می‌کند. "
                "مناقصه تا امضای آگهی منتشر نمی‌شود.\n\n"
                "Body: a TenderRequest carrying the tender file (TOML: a scenario's [tender] and [[commission]] keys, "
                "with the tender id and [price_list]) byte for byte, signed on the token of that unit's contracts "
                "officer. The engine checks the dates, the commission members' registry roles, the deputy's token "
                "approvals of the price list and formulas (R09) and the threshold, computes the estimate and splits "
                "the opening key among the commission's certificates. Nothing is published until the notice is signed.")
async def create_tender(request: Request, actor: Annotated[Actor, Depends(require_role(files.OPERATOR_ROLE))],
                        deps: DepsParam) -> dict[str, Any]:
    doc = await signed_request(request, "TenderRequest")
    return (await run_in_threadpool(files.create_tender, deps, doc)).to_dict()


def _own_unit(actor: Actor, unit: str) -> None:
    if actor.unit != unit:
        raise DomainError(Reason.NOT_AUTHORISED, f"نشست در واحد {actor.unit} است و مناقصه از آنِ {unit}")


@router.get(
    "/tenders/{tender_id}", responses=_ERRORS,
    summary="وضعیت مناقصه — Tender status",
    description="وضعیت مناقصه‌ای که از پروندهٔ مناقصه ساخته شده: created (آگهی امضا نشده) یا وضعیت ذخیره‌شده، برآورد "
                "و کلید عمومی بازگشایی. مناقصهٔ منتشرنشده فقط برای نشست‌های همان واحد.\n\n"
                "The status of a tender created from a tender file: `created` (notice not yet signed) or its stored "
                "status, the estimate and the opening public key. A tender not yet announced is shown only to "
                "sessions of its unit.")
def get_tender(tender_id: str, request: Request, deps: DepsParam) -> dict[str, Any]:
    status = files.tender_status(deps, tender_id)
    if status.status == "created":
        try:
            _own_unit(actor_of(request), status.unit)
        except DomainError:
            raise DomainError(Reason.NOT_FOUND, f"مناقصهٔ «{tender_id}»") from None
    return status.to_dict()


@router.get(
    "/tenders/{tender_id}/notice/draft", responses={200: _XML_OK, **_ERRORS}, response_class=Response,
    summary="پیش‌نویس آگهی برای امضا — The notice to sign",
    description="آگهی مناقصه چنان‌که اکنون منتشر می‌شود (زمان انتشار = زمان سامانه)، امضانشده: متن و قواعد جاری آن "
                "واحد در آن تاریخ (R02، R27)، کلید عمومی بازگشایی و اعضای کمیسیون با گواهی‌هایشان. امضاکنندهٔ مجاز "
                "واحد آن را در جایگاه خود می‌خواند، با توکن خود امضا می‌کند و ظرف چند دقیقه می‌فرستد.\n\n"
                "The tender's notice as it would be published now (announcement time = the engine's clock), unsigned: "
                "its text and the rules in force for that unit and date (R02, R27), the opening public key and the "
                "commission with their certificates. The unit's authorised signatory reads it at their station, "
                "signs it on their token and sends it back within minutes.")
def get_notice_draft(tender_id: str, deps: DepsParam,
                     actor: Annotated[Actor, Depends(require_role(files.NOTICE_SIGNATORY, files.OPERATOR_ROLE))],
                     ) -> Response:
    _own_unit(actor, files.tender_status(deps, tender_id).unit)
    return _xml(files.draft_notice(deps, tender_id))


@router.post(
    "/tenders/{tender_id}/notice", status_code=201, openapi_extra=SIGNED_XML_BODY,
    responses={201: _XML_OK, **_ERRORS}, response_class=Response,
    summary="انتشار آگهی امضاشده — Publish the signed notice",
    description="بدنه: آگهی امضاشده با توکن امضاکنندهٔ مجاز واحد (رئیس کمیسیون ماده ۱۳). سامانه امضا را در زمان دریافت "
                "می‌سنجد، بررسی می‌کند که همان آگهی این مناقصه باشد، آن را با توکن خود امضا می‌کند، مناقصه را ثبت و آگهی "
                "را با اسنادش در درگاه اطلاع‌رسانی منتشر می‌کند (R02) و اجرای مناقصه را برای زمان بازگشایی زمان‌بندی "
                "می‌کند. پاسخ: آگهی منتشرشده (XML)؛ شناسهٔ اجرا در سرآیند X-Eproc-Run-Id.\n\n"
                "Body: the notice signed on the token of the unit's authorised signatory (the Article 13 commission's "
                "chair). The engine verifies it at receipt, checks that it is this tender's notice, countersigns it "
                "with its own token, registers the tender and publishes the notice with its documents on the "
                "announcement portal (R02), and schedules the tender's run at the opening time. Answer: the published "
                "notice (XML); the run in the X-Eproc-Run-Id and X-Eproc-Run-Scheduled-For headers (or "
                "X-Eproc-Schedule-Problem: the notice stays published and `eproc schedule-tender` retries).")
async def post_notice(tender_id: str, request: Request, deps: DepsParam,
                      actor: Annotated[Actor, Depends(require_role(files.NOTICE_SIGNATORY))]) -> Response:
    doc = await signed_request(request, "Notice")
    if read_notice(doc.root).tender_id != tender_id:
        raise DomainError(Reason.INVALID_INPUT, "آگهی از آنِ مناقصهٔ دیگری است")
    published = _xml(await run_in_threadpool(files.publish_notice, deps, doc), status=201)
    # The tender's run is scheduled here, at the server, whatever network the chair's station is on.
    published.headers.update(await run_in_threadpool(_schedule_headers, deps, tender_id))
    return published


def _schedule_headers(deps: Deps, tender_id: str) -> dict[str, str]:
    """The scheduled run as response headers (`X-Eproc-Run-Id`, `X-Eproc-Run-Scheduled-For`), or the
    problem (`X-Eproc-Schedule-Problem`: the notice stays published; `eproc schedule-tender` retries)."""
    try:
        run = progress.schedule_opening(deps, tender_id)
    except Exception as exc:  # noqa: BLE001 - the workflow engine down must not unpublish a signed notice
        log.warning("tender %s: its run was not scheduled: %s", tender_id, type(exc).__name__)
        return {SCHEDULE_PROBLEM_HEADER: type(exc).__name__}
    if run is None:
        return {}
    return {RUN_ID_HEADER: run["id"], RUN_AT_HEADER: run["scheduled_for"]}


@router.get(
    "/tenders/{tender_id}/notice", responses={200: _XML_OK, 404: _ERRORS[404]}, response_class=Response,
    summary="آگهی منتشرشده — The published notice",
    description="آگهی امضاشده (امضای امضاکنندهٔ مجاز واحد و امضای سامانه) که پیشنهاددهندگان پیش از مهروموم با گواهی "
                "مرجع می‌سنجند و کلید عمومی بازگشایی را از آن برمی‌دارند. همگانی.\n\n"
                "The signed notice (the unit's authorised signatory's signature and the engine's) that bidders verify "
                "with the CA certificate before sealing, and take the opening public key from. Public.")
def get_notice(tender_id: str, deps: DepsParam) -> Response:
    return _xml(files.published_notice(deps, tender_id))


@router.post(
    "/tenders/{tender_id}/bids", status_code=201, openapi_extra=BID_BODY,
    responses={201: {"description": "رسید امضاشدهٔ سامانه — the engine's signed receipt", **_XML_OK}, **_ERRORS},
    response_class=Response,
    summary="ارسال پیشنهاد مهروموم‌شده — Submit a sealed bid",
    description="بدنه: پروندهٔ پیشنهاد مهروموم‌شده (جریانی). مهلت در زمان دریافت سامانه سنجیده می‌شود؛ امضای فهرست "
                "پیشنهاد باید از امضاکنندهٔ ثبت‌شدهٔ همان شرکتِ نشست باشد؛ فقط همان شرکت می‌تواند پیشنهادش را جایگزین کند "
                "(BID_NOT_OWNED). نشست اختیاری است: بی آن، امضای فهرست پیشنهاد از سوی شرکت سخن می‌گوید و ارسالِ "
                "امضاکننده‌ای که نمی‌تواند وارد شود (گواهی باطل‌شده) نیز دریافت و با دلیل رد ثبت می‌شود. پاسخ: رسید امضاشده با چکیدهٔ هر پاکت (XML)؛ سرایند X-Eproc-Receipt-Seq شمارهٔ "
                "ارسال است. پیشنهاد دیررسیده LATE_SUBMISSION است.\n\n"
                "Body: the sealed bid file (streamed). The deadline is judged at the engine's receipt time; the "
                "manifest must be signed by the registered signatory of the session's company; only that company "
                "can replace its bid (BID_NOT_OWNED). The session is optional: without one the signed manifest alone "
                "speaks for the company, so a submission whose signatory cannot log in (a revoked certificate) is still "
                "received and refused on the record. Answer: the signed receipt holding each envelope's hash (XML); "
                "the X-Eproc-Receipt-Seq header is the submission's number. A late bid is LATE_SUBMISSION.")
async def post_bid(tender_id: str, request: Request, deps: DepsParam,
                   _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Response:
    # With a session it must be the company's signatory's. Without one the signed manifest alone speaks
    # for the company: a signatory whose certificate was revoked cannot log in, yet the bid is still
    # received and refused on the record (BIDDER_SIGNATURE_INVALID), as art. 16 needs every submission kept.
    actor = actor_of(request) if request.headers.get("authorization") else None
    if actor is not None and actor.role != COMPANY_SIGNATORY:
        raise DomainError(Reason.NOT_AUTHORISED, f"این اقدام سمت {COMPANY_SIGNATORY} می‌خواهد")
    async with spooled(request, limit=request.app.state.max_body_bytes) as body:
        bid = await run_in_threadpool(files.read_bid_file, body.file)
    if bid.tender_id != tender_id:
        raise DomainError(Reason.INVALID_INPUT, "پیشنهاد برای مناقصهٔ دیگری مهروموم شده است")
    if actor is not None and bid.company_id != actor.unit:
        raise DomainError(Reason.NOT_AUTHORISED, "نشست از آنِ شرکت دیگری است")
    if not _known_announced(deps, tender_id):
        # A store read: in the thread pool, never on the event loop (on SQLite every unit of work waits
        # for the write lock, which a submission in another thread may hold; the other uploads would stall).
        await run_in_threadpool(files.check_announced, deps, tender_id)
        _note_announced(deps, tender_id)
    result = await run_in_threadpool(submit_bid, deps, tender_id, bid.bidder_id, bid.company_id, bid.sealed,
                                     bid.manifest)
    if not result.accepted or result.receipt_xml is None:
        raise DomainError(result.reason or Reason.INVALID_INPUT, f"پیشنهاددهندهٔ «{bid.bidder_id}»")
    return _xml(result.receipt_xml, status=201, headers={"X-Eproc-Receipt-Seq": str(result.seq)})


# Per store: the tenders `files.check_announced` found announced. Its answer is the tender row's
# existence, and a tender row is never deleted: a positive answer holds for the life of the process,
# and a deadline burst's bids skip that unit of work (a negative answer is asked again every time).
_ANNOUNCED: weakref.WeakKeyDictionary[sessionmaker, set[str]] = weakref.WeakKeyDictionary()
_ANNOUNCED_LOCK = threading.Lock()


def _known_announced(deps: Deps, tender_id: str) -> bool:
    with _ANNOUNCED_LOCK:
        return tender_id in _ANNOUNCED.get(deps.sessions, ())


def _note_announced(deps: Deps, tender_id: str) -> None:
    with _ANNOUNCED_LOCK:
        _ANNOUNCED.setdefault(deps.sessions, set()).add(tender_id)


@router.get(
    "/trust/ca", response_class=Response,
    responses={200: {"content": {"application/x-pem-file": {"schema": {"type": "string"}}}}},
    tags=["authentication / احراز هویت"],
    summary="گواهی مرجع صدور گواهی — The CA certificate",
    description="گواهی مرجع صدور گواهی شهرداری (PEM) که امضای آگهی‌ها و رسیدها با آن سنجیده می‌شود. در محیط واقعی آن را "
                "از راهی جز همین سرویس نیز تطبیق دهید.\n\n"
                "The municipal CA's certificate (PEM) that notices and receipts are verified against. In production "
                "compare it with a copy obtained another way too.")
def get_ca(deps: DepsParam) -> Response:
    return Response(deps.ca_cert.public_bytes(serialization.Encoding.PEM), media_type="application/x-pem-file")
