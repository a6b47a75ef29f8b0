"""The commission's sittings from the members' own stations (issue 12; R04, R08).

    GET  /v1/tenders/{id}/sessions/{session}            the sitting: open or not, who released, seats
    GET  /v1/tenders/{id}/sessions/{session}/key        public: the sitting's key, signed by the engine
    GET  /v1/tenders/{id}/sessions/{session}/parts      a member: their parts of every bid's key (wrapped)
    POST /v1/tenders/{id}/sessions/{session}/releases   a member: their parts, released to the sitting's key

`session` is `opening` or `price_opening`. Members log in with the role they sit in (chair, finance,
technical, legal, security) for the tender's unit; the release is a PartsRelease document signed on
their token (services.tender.release).
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.context import get_deps
from api.security import Actor, require_role
from api.signed import SIGNED_XML_BODY, signed_request
from domain.reasons import DomainError
from services.deps import Deps
from services.tender import progress, release
from services.tender.view import load

router = APIRouter(prefix="/v1", tags=["sittings / جلسه‌های کمیسیون"])
DepsParam = Annotated[Deps, Depends(get_deps)]
SessionName = Literal["opening", "price_opening"]
Member = Annotated[Actor, Depends(require_role(*release.MEMBER_ROLES))]

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "MALFORMED_XML, SIGNATURE_INVALID, CERT_*, SIGNING_TIME_SKEW — {reason, message_fa, detail}"},
    401: {"description": "NOT_AUTHENTICATED — بدون نشست یا سند امضانشده / no session or an unsigned document"},
    403: {"description": "NOT_AUTHORISED — عضو کمیسیون این مناقصه با این سمت نیست / not a member in that role"},
    404: {"description": "NOT_FOUND"},
    409: {"description": "WRONG_STAGE (جلسه باز نیست یا عضو پیش‌تر آزاد کرده / not open, or released already), "
                         "OPENING_TOO_EARLY"},
    422: {"description": "INVALID_INPUT (another tender, sitting, member or session key)"},
}


@router.get(
    "/tenders/{tender_id}/sessions/{session}", responses=_ERRORS,
    summary="وضعیت جلسه — The sitting's state",
    description="آیا جلسه برای آزادسازی سهم‌ها باز است، کدام اعضا سهم خود را آزاد کرده‌اند و صندلی‌های کلید بازگشایی "
                "(حد نصاب، نقش‌ها). همگانی؛ هیچ سهمی در آن نیست.\n\n"
                "Whether the sitting is open for releases, which members have released their parts, and the seats "
                "of the opening keys (threshold, roles). Public; it holds no part.")
def get_sitting(tender_id: str, session: SessionName, deps: DepsParam) -> dict[str, Any]:
    view = load(deps, tender_id)
    try:
        open_ = release.sitting(deps, tender_id, session)
        key_sha256: str | None = open_.sha256
    except DomainError:  # not open is a state here, not an error
        key_sha256 = None
    return {"tender_id": tender_id, "session": session, "open": key_sha256 is not None,
            "session_key_sha256": key_sha256, "released": release.released_members(deps, tender_id, session),
            "threshold": view.seats.threshold,
            "seats": {**{r: list(i) for r, i in view.seats.voting.items()}, "security": list(view.seats.security)}}


@router.get(
    "/tenders/{tender_id}/sessions/{session}/key", response_class=Response, responses=_ERRORS,
    summary="کلید جلسه — The sitting's key",
    description="کلید عمومی این جلسه که سامانه روی توکن خود ساخته و امضا کرده است (SessionKey). ایستگاه عضو امضای "
                "سامانه را با گواهی مرجع می‌سنجد و سهم‌های آزادشده را با آن رمز می‌کند. همگانی.\n\n"
                "The public key the engine made on its own token for this sitting, in a SessionKey document it "
                "signed. A member's station verifies it with the CA certificate and encrypts released parts to it.")
def get_key(tender_id: str, session: SessionName, deps: DepsParam) -> Response:
    return Response(release.sitting(deps, tender_id, session).xml, media_type="application/xml")


@router.get(
    "/tenders/{tender_id}/sessions/{session}/parts", responses=_ERRORS,
    summary="سهم‌های عضو — The member's parts",
    description="سهم این عضو از کلید هر پیشنهاد، همان‌گونه که پیشنهاددهنده آن را برای گواهی عضو رمز کرده است، همراه "
                "کلید امضاشدهٔ جلسه. فقط برای عضو کمیسیون همین مناقصه با سمت نشستش، و فقط وقتی جلسه باز است.\n\n"
                "This member's part of every bid's key, as the bidder wrapped it to the member's certificate, with "
                "the sitting's signed key. Only for a member of this tender's commission in the session's role, and "
                "only while the sitting is open.")
def get_parts(tender_id: str, session: SessionName, deps: DepsParam, actor: Member) -> dict[str, Any]:
    return release.parts_for(deps, tender_id, session, actor.national_id, actor.role)


@router.post(
    "/tenders/{tender_id}/sessions/{session}/releases", status_code=201, openapi_extra=SIGNED_XML_BODY,
    responses=_ERRORS,
    summary="آزادسازی سهم‌ها در جلسه — Release the member's parts to the sitting",
    description="بدنه: سند PartsRelease امضاشده با توکن عضو: سهم‌های او که روی توکن خودش گشوده و برای کلید همین جلسه "
                "رمز شده است. سامانه آن را رمزشده نگه می‌دارد تا نصاب و نمایندهٔ حراست آزاد کنند و رئیس جلسه حضور را "
                "تأیید کند.\n\n"
                "Body: a PartsRelease signed on the member's token: their parts, unwrapped on their own token and "
                "encrypted to this sitting's key. The engine keeps them encrypted until the quorum and the security "
                "representative have released and the chair has confirmed attendance.")
async def post_release(tender_id: str, session: SessionName, request: Request, deps: DepsParam,
                       actor: Member) -> dict[str, Any]:
    doc = await signed_request(request, "PartsRelease")
    done = await run_in_threadpool(release.receive_release, deps, tender_id, session, doc)
    await run_in_threadpool(progress.after_release, deps, tender_id, session)  # operators' view; the run resumes
    return {"member_id": done.member_id, "parts": done.count, "sha256": done.sha256}
