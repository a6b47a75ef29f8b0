"""Login with the person's token (issue 11 part 2): challenge, signed answer, short-lived session.

    POST /v1/auth/challenge  {"national_id": "..."}        -> {challenge_id, nonce, expires_at}
    POST /v1/auth/session    <SignedDocument> (XML)          -> {token, token_type, expires_at, ...}
    GET  /v1/auth/session    Authorization: Bearer <token>  -> who the session speaks for

The answer is a SessionRequest (domain.documents.auth) signed on the person's token as `role@unit`
(services.auth.sign_session_request on their station); the server verifies it at receipt: chain,
CA-signed CRL, signing time within the policy's skew, registry role for that unit and day.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.context import get_deps
from api.security import Actor, current_actor, session_keys
from api.signed import SIGNED_XML_BODY
from api.streaming import spooled
from services.auth import issue_challenge, open_session

router = APIRouter(prefix="/v1/auth", tags=["authentication / احراز هویت"])

LOGIN_DOCUMENT_BYTES = 64 * 1024  # a login document is a few kilobytes (one certificate, one signature)
_ERRORS = {
    401: {"description": "NOT_AUTHENTICATED — {reason, message_fa, detail}"},
    403: {"description": "NOT_AUTHORISED — {reason, message_fa, detail}"},
    422: {"description": "INVALID_INPUT — {reason, message_fa, detail}"},
}


class ChallengeIn(BaseModel):
    national_id: str = Field(description="کد ملی شخص (ارقام فارسی یا لاتین) — the person's national ID",
                             min_length=8, max_length=20, examples=["5260181591"])


class ChallengeOut(BaseModel):
    challenge_id: str = Field(description="شناسهٔ چالش — challenge id")
    nonce: str = Field(description="رشتهٔ یک‌بارمصرفی که امضا می‌شود — the single-use nonce to sign")
    expires_at: datetime = Field(description="پایان مهلت پاسخ (UTC) — answer before this time (UTC)")


class SessionOut(BaseModel):
    token: str = Field(description="توکن نشست برای سرایند Authorization: Bearer — the bearer session token")
    token_type: str = Field("bearer", description="نوع توکن — token type")
    expires_at: datetime = Field(description="پایان اعتبار نشست (UTC) — session expiry (UTC)")
    national_id: str
    role: str
    unit: str


class ActorOut(BaseModel):
    national_id: str
    role: str
    unit: str
    session_id: str
    expires_at: datetime | None


@router.post(
    "/challenge", response_model=ChallengeOut, responses={422: _ERRORS[422]},
    summary="چالش ورود — Login challenge",
    description="یک رشتهٔ یک‌بارمصرف برای این کد ملی می‌سازد که باید پیش از پایان مهلت، در سند ورود "
                "(SessionRequest) با کلید روی توکن همان شخص امضا شود. چیزی دربارهٔ ثبت بودن شخص نمی‌گوید.\n\n"
                "Issues a single-use nonce for this national ID, to be signed inside a login document "
                "(SessionRequest) with the key on that person's token before it expires. It says nothing about "
                "whether the person is registered.")
def challenge(body: ChallengeIn, request: Request) -> ChallengeOut:
    c = issue_challenge(get_deps(request), session_keys(request), body.national_id)
    return ChallengeOut(challenge_id=c.challenge_id, nonce=c.nonce, expires_at=c.expires_at)


@router.post(
    "/session", response_model=SessionOut, openapi_extra=SIGNED_XML_BODY,
    responses={401: _ERRORS[401], 403: _ERRORS[403], 400: {"description": "MALFORMED_XML, SIGNATURE_INVALID, "
                                                                          "CERT_*, SIGNING_TIME_SKEW"}},
    summary="ورود با امضای توکن — Open a session with a token signature",
    description="بدنه: سند ورود امضاشده (application/xml). سامانه در زمان دریافت، امضا، زنجیرهٔ گواهی تا مرجع "
                "شهرداری، فهرست ابطال امضاشدهٔ مرجع، فاصلهٔ زمان امضا با زمان دریافت و سمت شخص در آن واحد و "
                "تاریخ را در ثبت سمت‌ها می‌سنجد و توکن نشست کوتاه‌مدت می‌دهد. هر چالش فقط یک بار پذیرفته می‌شود.\n\n"
                "Body: the signed login document (application/xml). At receipt the system checks the signature, "
                "the chain to the municipal CA, the CA-signed CRL, the signing time against the receipt time and "
                "the person's role in that unit on that day in the registry, then issues a short-lived session "
                "token. Each challenge is accepted once.")
async def session(request: Request) -> SessionOut:
    deps = get_deps(request)
    async with spooled(request, limit=min(LOGIN_DOCUMENT_BYTES, request.app.state.max_body_bytes)) as body:
        xml = body.read_all()
    received_at = deps.clock.now()
    s = await run_in_threadpool(open_session, deps, session_keys(request), xml, received_at)
    c = s.claims
    return SessionOut(token=s.token, expires_at=c.expires_at, national_id=c.national_id, role=c.role, unit=c.unit)


@router.get(
    "/session", response_model=ActorOut, responses={401: _ERRORS[401]},
    summary="نشست جاری — The current session",
    description="شخص، سمت و واحدی که توکن نشست به نام آن‌هاست، و پایان اعتبار آن.\n\n"
                "The person, role and unit the bearer session token speaks for, and when it expires.")
def whoami(actor: Annotated[Actor, Depends(current_actor())]) -> ActorOut:
    return ActorOut(national_id=actor.national_id, role=actor.role, unit=actor.unit, session_id=actor.session_id,
                    expires_at=actor.expires_at)
