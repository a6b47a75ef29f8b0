"""The Article 13 minutes and the Article 18 notification signed at the members' own stations (issue
12 part 3; R06, R10, R11; "Stations and trust").

    GET  /v1/tenders/{id}/minutes/{kind}             a commission member: the stored document's exact bytes
    GET  /v1/tenders/{id}/minutes/{kind}/summary     the same member: SHA-256, Persian summary, who signs
    POST /v1/tenders/{id}/minutes/{kind}/signatures  a required signer: the document with their signature

`kind`: article13 (the minutes, signed by every member taking part in the session), article18 or
article18-2 (the notification to the winner or the runner-up, signed by the chair). The session must
be the member's own role in the tender's unit (services.tender.minutes.check_member). The body of a
signature is the stored document itself with one signature appended (the station signs what it
fetched), not a separate request document: the engine keeps the stored document plus that signature,
verified at receipt, and the document is final when every required member has signed.
"""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.context import get_deps
from api.security import Actor, current_actor
from api.signed import SIGNED_XML_BODY
from api.streaming import spooled
from services.deps import Deps
from services.tender import progress
from services.tender.minutes import Signatory, check_member, minutes_to_sign, receive_signature

router = APIRouter(prefix="/v1", tags=["minutes / صورتجلسه‌ها"])
DepsParam = Annotated[Deps, Depends(get_deps)]
ActorParam = Annotated[Actor, Depends(current_actor())]
XML = "application/xml"
SHA256_HEADER = "X-Eproc-SHA256"

_KIND_FA = ("`kind`: article13 (صورتجلسهٔ کمیسیون ماده ۱۳)، article18 یا article18-2 (ابلاغ ماده ۱۸ به برندهٔ اول یا "
            "دوم) — article13 (the Article 13 minutes), article18 or article18-2 (the Article 18 notification to "
            "the winner or the runner-up).")
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "MALFORMED_XML, SIGNATURE_INVALID, CERT_UNTRUSTED, CERT_EXPIRED, CERT_REVOKED, "
                         "SIGNING_TIME_SKEW, STORE_TAMPERED, QUORUM_NOT_MET — {reason, message_fa, detail}"},
    401: {"description": "NOT_AUTHENTICATED — بدون نشست، یا امضای تازه از شخص نشست نیست / no session, or the new "
                         "signature is not the session person's"},
    403: {"description": "NOT_AUTHORISED, SIGNER_NOT_IN_ROLE — عضو کمیسیون این مناقصه یا امضاکنندهٔ لازم نیست / not a "
                         "member of the tender's commission, not a required signer, or the registry does not give "
                         "the role"},
    404: {"description": "NOT_FOUND — مناقصه نیست / no such tender"},
    409: {"description": "WRONG_STAGE — هنوز تولید نشده؛ امضای دیگری زودتر رسیده (سند را دوباره دریافت و امضا کنید)؛ "
                         "پیش‌تر امضا کرده‌اید / not generated yet; another signature landed first (fetch and sign "
                         "again); already signed. MINUTES_FINAL — نهایی شده / final: nothing changes after"},
    413: {"description": "REQUEST_TOO_LARGE"},
    422: {"description": "INVALID_INPUT — نوع سند ناشناخته، متن یا امضاهای پیشین دیگر، بیش از یک امضای تازه / unknown "
                         "kind, another content or altered earlier signatures, more than one new signature"},
}
_XML_OK: dict[str, Any] = {
    "content": {XML: {"schema": {"type": "string"}}},
    "headers": {SHA256_HEADER: {"description": "SHA-256 بایت‌های پاسخ — SHA-256 of the bytes", "schema": {"type": "string"}},
                "X-Eproc-Body-SHA256": {"description": "SHA-256 متن امضاشونده (بی امضاها) — of the signed body alone",
                                        "schema": {"type": "string"}},
                "X-Eproc-Version": {"schema": {"type": "integer"}},
                "X-Eproc-Final": {"schema": {"type": "string", "enum": ["true", "false"]}}},
}


def _signatory(actor: Actor) -> Signatory:
    return Signatory(actor.national_id, actor.role, actor.unit)


def _read(deps: Deps, tender_id: str, kind: str, actor: Actor) -> Any:
    check_member(deps, tender_id, _signatory(actor))
    return minutes_to_sign(deps, tender_id, kind)


@router.get(
    "/tenders/{tender_id}/minutes/{kind}", responses={200: _XML_OK, **_ERRORS}, response_class=Response,
    summary="سند برای امضا در جلسه — The document to sign in the session",
    description="بایت‌های دقیق صورتجلسه یا ابلاغ ذخیره‌شده، با امضاهایی که تاکنون رسیده است؛ سرایند X-Eproc-SHA256 چکیدهٔ "
                "همین بایت‌هاست و جایگاه عضو پیش از امضا آن را می‌سنجد. فقط اعضای کمیسیون همین مناقصه با سمت خود در واحد "
                "آن. " + _KIND_FA + "\n\n"
                "The stored minutes or notification, byte for byte, with the signatures received so far; the "
                "X-Eproc-SHA256 header is the SHA-256 of these bytes, which the member's station checks before "
                "signing. Only members of the tender's commission, in session as their own role in its unit.")
def get_document(tender_id: str, kind: str, deps: DepsParam, actor: ActorParam) -> Response:
    shown = _read(deps, tender_id, kind, actor)
    return Response(content=shown.xml, media_type=XML, headers={
        SHA256_HEADER: shown.sha256, "X-Eproc-Body-SHA256": shown.body_sha256, "X-Eproc-Version": str(shown.version),
        "X-Eproc-Final": "true" if shown.final else "false"})


@router.get(
    "/tenders/{tender_id}/minutes/{kind}/summary", responses=_ERRORS,
    summary="خلاصهٔ فارسی و چکیدهٔ سند — Persian summary and hash of the document",
    description="خلاصهٔ فارسی سند (برنده، قیمت‌ها و رتبه‌ها، یا شرایط ابلاغ)، چکیدهٔ SHA-256 بایت‌های آن و متن امضاشونده، "
                "نسخه، نهایی بودن، امضاکنندگان لازم و کسانی که امضا کرده‌اند. " + _KIND_FA + "\n\n"
                "The document's Persian summary (winner, prices and ranking, or the notification's terms), the "
                "SHA-256 of its bytes and of its signed body, its version, whether it is final, who must sign and "
                "who has.")
def get_summary(tender_id: str, kind: str, deps: DepsParam, actor: ActorParam) -> dict[str, Any]:
    data: dict[str, Any] = _read(deps, tender_id, kind, actor).to_dict()
    return data


@router.post(
    "/tenders/{tender_id}/minutes/{kind}/signatures", status_code=201, openapi_extra=SIGNED_XML_BODY,
    responses=_ERRORS,
    summary="امضای سند در جایگاه عضو — A member's signature, made at their station",
    description="بدنه: همان سند ذخیره‌شده (بایت‌هایی که از GET گرفته شد) با یک امضای تازه در پایان، با توکن عضو و با "
                "سمت نشست او در واحد مناقصه. سامانه متن و امضاهای پیشین را با نسخهٔ ذخیره‌شده می‌سنجد، امضای تازه را در "
                "زمان دریافت وارسی می‌کند (زنجیرهٔ گواهی، فهرست ابطال، سمت در ثبت سمت‌ها، زمان امضا) و فقط از امضاکنندهٔ "
                "لازمی می‌پذیرد که هنوز امضا نکرده است؛ با آخرین امضا سند نهایی می‌شود (پیش‌نویس و کارتابل امضا وجود "
                "ندارد، R10). اگر امضای دیگری زودتر رسیده باشد WRONG_STAGE: سند را دوباره دریافت و امضا کنید. پاسخ: "
                "خلاصهٔ سند پس از امضا. " + _KIND_FA + "\n\n"
                "Body: the stored document itself (the bytes GET returned) with one new signature appended, made on "
                "the member's token as their session's role in the tender's unit. The engine compares the content and "
                "the earlier signatures with the stored version, verifies the new signature at receipt (chain, CRL, "
                "registry role, signing time) and accepts it only from a required signer who has not signed yet; "
                "the last signature makes the document final (no draft, no signature inbox, R10). When another "
                "signature landed first: WRONG_STAGE, fetch and sign again. Answer: the document's summary after it.")
async def post_signature(tender_id: str, kind: str, request: Request, deps: DepsParam,
                         actor: ActorParam) -> dict[str, Any]:
    await run_in_threadpool(check_member, deps, tender_id, _signatory(actor))
    async with spooled(request, limit=request.app.state.max_body_bytes) as body:
        xml = body.read_all()
    received_at = deps.clock.now()
    shown = await run_in_threadpool(receive_signature, deps, tender_id, kind, xml, _signatory(actor), received_at)
    await run_in_threadpool(progress.after_signature, deps, tender_id, kind)  # who has signed; the run resumes
    data: dict[str, Any] = shown.to_dict()
    return data
