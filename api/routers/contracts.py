"""Contracts and status statements at the people's own stations (issue 13 parts 1 and 2; R12, R13,
R14, R17, R18, R29; "Stations and trust"). The engine signs nothing on anyone's behalf: every
state-changing body is a document signed on the actor's token, verified at receipt.

    POST /v1/tenders/{id}/contract                          contracts officer: signed ContractOpening
    GET  /v1/tenders/{id}/contract                          unit staff or the contractor: terms, stage, approvals
    GET  /v1/tenders/{id}/contract/document                 the canonical contract document (what stages approve)
    POST /v1/tenders/{id}/contract/terms                    contracts officer (or the stage's role): ContractTermsEntry
    POST /v1/tenders/{id}/contract/approvals                the stage's approver: signed ContractStage
    POST /v1/tenders/{id}/contract/statements               the contractor: signed StatementSubmission
    GET  /v1/tenders/{id}/contract/statements/{ref}         the statement's stored bytes (to sign)
    GET  /v1/tenders/{id}/contract/statements/{ref}/summary amounts, path, whose turn
    POST /v1/tenders/{id}/contract/statements/{ref}/signatures  the next signer: stored bytes + one signature
    GET  /v1/inbox                                          what waits for the session's person (R29)

Services: services.contract.at_stations (which call the same rule homes as the rehearsal).
"""
from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.context import get_deps
from api.security import Actor, current_actor
from api.signed import SIGNED_XML_BODY, signed_request
from api.streaming import spooled
from services.contract import at_stations as svc
from services.contract.requests import OPENING, STAGE, SUBMISSION, TERMS
from services.deps import Deps

router = APIRouter(prefix="/v1", tags=["contracts / قراردادها"])
DepsParam = Annotated[Deps, Depends(get_deps)]
ActorParam = Annotated[Actor, Depends(current_actor())]
XML = "application/xml"
SHA256_HEADER = "X-Eproc-SHA256"
BODY_SHA256_HEADER = "X-Eproc-Body-SHA256"

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "MALFORMED_XML, SIGNATURE_INVALID, CERT_UNTRUSTED, CERT_EXPIRED, CERT_REVOKED, "
                         "SIGNING_TIME_SKEW, NO_CONTRACT_CODE, CONTRACT_NOT_FINAL, BUDGET_LINE_MISSING, "
                         "EXPENSE_FACTOR_MISSING, STATEMENT_NOT_SIGNED — {reason, message_fa, detail}"},
    401: {"description": "NOT_AUTHENTICATED — بدون نشست، یا امضاکننده شخص نشست نیست / no session, or not the "
                         "session's person"},
    403: {"description": "NOT_AUTHORISED, SIGNER_NOT_IN_ROLE — کسی که این مرحله منتظر اوست نیستید / not the person "
                         "this step waits for"},
    404: {"description": "NOT_FOUND — مناقصه، قرارداد یا صورت‌وضعیت نیست / no such tender, contract or statement"},
    409: {"description": "WRONG_STAGE — مرحلهٔ دیگر، سند کهنه (دوباره بخوانید و امضا کنید)، نوبت دیگری / another "
                         "stage, a stale document (read and sign again), someone else's turn"},
    413: {"description": "REQUEST_TOO_LARGE"},
    422: {"description": "INVALID_INPUT, FIELD_MISSING"},
}
_XML_OK: dict[str, Any] = {
    "content": {XML: {"schema": {"type": "string"}}},
    "headers": {SHA256_HEADER: {"description": "SHA-256 بایت‌های پاسخ — of the bytes", "schema": {"type": "string"}},
                BODY_SHA256_HEADER: {"description": "SHA-256 متن امضاشونده (Body) — of the signed body",
                                     "schema": {"type": "string"}}},
}


def _signatory(actor: Actor) -> svc.Signatory:
    return svc.Signatory(actor.national_id, actor.role, actor.unit)


@router.post(
    "/tenders/{tender_id}/contract", status_code=201, openapi_extra=SIGNED_XML_BODY, responses=_ERRORS,
    summary="گشایش قرارداد از صورتجلسهٔ نهایی — Open the contract from the final minutes",
    description="بدنه: سند ContractOpening امضاشده با توکن کارشناس قراردادهای واحد مناقصه. مبلغ، پیمانکار و کمیسیون از "
                "صورتجلسهٔ نهایی ماده ۱۳؛ قرارداد با شمارهٔ پیگیری و بی کد در نخستین مرحلهٔ گردش واحد (R12). تکرار بی‌اثر است.\n\n"
                "Body: a ContractOpening signed on the token of the tender unit's contracts officer. Amount, "
                "contractor and commission from the final Article 13 minutes; the contract starts at the unit's first "
                "workflow stage with a tracking number and no code (R12). Idempotent.")
async def open_contract(tender_id: str, request: Request, deps: DepsParam, actor: ActorParam) -> dict[str, Any]:
    required = await run_in_threadpool(svc.opening_roles, deps, tender_id)
    doc = await signed_request(request, OPENING, required=required)
    await run_in_threadpool(svc.open_at_station, deps, tender_id, doc)
    data: dict[str, Any] = await run_in_threadpool(svc.contract_view, deps, tender_id)
    return data


@router.get(
    "/tenders/{tender_id}/contract", responses=_ERRORS,
    summary="قرارداد: شرایط، مرحله، تأییدها — The contract: terms, stage, approvals",
    description="برای کارکنان واحد قرارداد و پیمانکار آن: شمارهٔ پیگیری، کد (از مرحلهٔ نهایی)، مرحله و سمت‌هایی که منتظر "
                "آن‌هاست، ردیف بودجه و کد کل آن، عامل هزینه و تصویب کمیته، کد تأمین اعتبار، ناظر، امضاکنندگان، تأییدها "
                "و چکیدهٔ SHA-256 سند قرارداد.\n\n"
                "For the contract unit's staff and its contractor: tracking number, code (from `final`), stage and "
                "the roles it waits for, budget line and its general code, expense factor and the committee's "
                "approval, budget-allocation code, supervisor, signatories, approvals, the contract document's SHA-256.")
async def get_contract(tender_id: str, deps: DepsParam, actor: ActorParam) -> dict[str, Any]:
    data: dict[str, Any] = await run_in_threadpool(svc.contract_view, deps, tender_id, _signatory(actor))
    return data


@router.get(
    "/tenders/{tender_id}/contract/document", responses={200: _XML_OK, **_ERRORS}, response_class=Response,
    summary="سند قرارداد برای تأیید مرحله — The contract document a stage approves",
    description="سند متعارف قرارداد با شرایط کنونی؛ تأیید هر مرحله چکیدهٔ Body همین سند را نام می‌برد.\n\n"
                "The canonical contract document with the current terms; each stage approval names the SHA-256 "
                "of its Body.")
async def get_document(tender_id: str, deps: DepsParam, actor: ActorParam) -> Response:
    xml, view = await run_in_threadpool(svc.contract_to_sign, deps, tender_id, _signatory(actor))
    return Response(content=xml, media_type=XML, headers={SHA256_HEADER: hashlib.sha256(xml).hexdigest(),
                                                          BODY_SHA256_HEADER: view["contract_sha256"]})


@router.post(
    "/tenders/{tender_id}/contract/terms", openapi_extra=SIGNED_XML_BODY, responses=_ERRORS,
    summary="ورود شرایط قرارداد — Enter the contract's terms",
    description="بدنه: سند ContractTermsEntry امضاشده با توکن کارشناس قراردادها (یا سمت مرحلهٔ جاری برای اقلام همان "
                "مرحله): ردیف بودجه از ثبت ردیف‌های بودجهٔ واحد (با نگاشت به کد کل)، عامل هزینه از ثبت آن، کد تأمین "
                "اعتبار، ناظر و امضاکنندگان کارفرما از ثبت سمت‌ها، نوع قرارداد و اقلام لازم آن، شرایط پسماند (R29).\n\n"
                "Body: a ContractTermsEntry signed by the contracts officer (or the current stage's role for the "
                "fields it collects): budget line from the unit's registry (mapped to the general code), expense "
                "factor from its registry, budget-allocation code, supervisor and employer signatories from the "
                "role registry, contract kind and its mandatory fields, waste terms (R29).")
async def post_terms(tender_id: str, request: Request, deps: DepsParam, actor: ActorParam) -> dict[str, Any]:
    required = await run_in_threadpool(svc.terms_roles, deps, tender_id)
    doc = await signed_request(request, TERMS, required=required)
    data: dict[str, Any] = await run_in_threadpool(svc.enter_terms, deps, tender_id, doc)
    return data


@router.post(
    "/tenders/{tender_id}/contract/approvals", status_code=201, openapi_extra=SIGNED_XML_BODY, responses=_ERRORS,
    summary="تأیید مرحلهٔ گردش در جایگاه تأییدکننده — A stage approved at the approver's station",
    description="بدنه: سند ContractStage (مرحلهٔ جاری، سمت، چکیدهٔ سند قرارداد) امضاشده با توکن کسی که در آن روز سمت "
                "مرحله را در واحد دارد (در مرحلهٔ امضا: امضاکنندهٔ کارفرمای نام‌برده و امضاکنندهٔ پیمانکار). مرحلهٔ کهنه یا "
                "سند تغییرکرده WRONG_STAGE، شخص دیگر NOT_AUTHORISED. کد قرارداد در مرحلهٔ نهایی صادر می‌شود (R12، R13).\n\n"
                "Body: a ContractStage (current stage, role, the contract document's SHA-256) signed on the token "
                "of whoever holds the stage's role in the unit that day (at signing: a named employer signatory "
                "and the contractor's signatory). A stale stage or changed document is WRONG_STAGE, another person "
                "NOT_AUTHORISED. The contract code is issued at `final` (R12, R13).")
async def post_approval(tender_id: str, request: Request, deps: DepsParam, actor: ActorParam) -> dict[str, Any]:
    required = await run_in_threadpool(svc.approval_roles, deps, tender_id)
    doc = await signed_request(request, STAGE, required=required)
    data: dict[str, Any] = await run_in_threadpool(svc.approve_at_station, deps, tender_id, doc)
    return data


@router.get(
    "/inbox", responses=_ERRORS,
    summary="کارتابل: آنچه منتظر شماست — Inbox: what waits for you",
    description="قراردادهایی که مرحلهٔ جاری‌شان منتظر سمت نشست شما در واحد آن است، صورت‌وضعیت‌هایی که نوبت امضای شماست، و "
                "برای ذی‌حساب عوامل هزینهٔ در انتظار تصویب کمیتهٔ سامانهٔ مالی (R29).\n\n"
                "Contracts whose current stage waits for your session's role in its unit, statements whose next "
                "signature is yours, and for the treasurer the expense factors awaiting the committee (R29).")
async def get_inbox(deps: DepsParam, actor: ActorParam) -> dict[str, Any]:
    data: dict[str, Any] = await run_in_threadpool(svc.inbox, deps, _signatory(actor))
    return data


@router.post(
    "/tenders/{tender_id}/contract/statements", status_code=201, openapi_extra=SIGNED_XML_BODY, responses=_ERRORS,
    summary="صورت‌وضعیت تجمعی از جایگاه پیمانکار — A cumulative statement from the contractor's station",
    description="بدنه: سند StatementSubmission (مقدار تجمعی هر ردیف فهرست بها؛ در خدمات پسماند خودروها و کارگران فعال) "
                "امضاشده با توکن امضاکنندهٔ پیمانکار برای شرکت. سامانه آن را با قواعد صورت‌وضعیت محاسبه و برای امضای "
                "گردش نگه می‌دارد؛ نخست خود پیمانکار سند محاسبه‌شده را امضا می‌کند. قرارداد بی کد یا نانهایی: "
                "NO_CONTRACT_CODE یا CONTRACT_NOT_FINAL (R13، R14، R17، R18).\n\n"
                "Body: a StatementSubmission (cumulative quantity per price-list item; for waste services the "
                "active vehicles and workers) signed on the contractor's signatory's token for the company. The "
                "engine computes it by the statement rules and keeps it for its path to sign, the contractor first "
                "on the computed document. A contract without code or not final: NO_CONTRACT_CODE or "
                "CONTRACT_NOT_FINAL (R13, R14, R17, R18).")
async def post_statement(tender_id: str, request: Request, deps: DepsParam, actor: ActorParam) -> dict[str, Any]:
    required = await run_in_threadpool(svc.submission_roles, deps, tender_id)
    doc = await signed_request(request, SUBMISSION, required=required)
    data: dict[str, Any] = await run_in_threadpool(svc.submit_at_station, deps, tender_id, doc)
    return data


@router.get(
    "/tenders/{tender_id}/contract/statements/{ref}", responses={200: _XML_OK, **_ERRORS}, response_class=Response,
    summary="سند صورت‌وضعیت برای امضا — The statement's document to sign",
    description="بایت‌های دقیق سند ذخیره‌شده با امضاهایی که تاکنون رسیده است.\n\n"
                "The stored document, byte for byte, with the signatures received so far.")
async def get_statement(tender_id: str, ref: str, deps: DepsParam, actor: ActorParam) -> Response:
    xml, view = await run_in_threadpool(svc.statement_to_sign, deps, tender_id, ref, _signatory(actor))
    return Response(content=xml, media_type=XML, headers={SHA256_HEADER: view["sha256"] or "",
                                                          BODY_SHA256_HEADER: view["body_sha256"] or ""})


@router.get(
    "/tenders/{tender_id}/contract/statements/{ref}/summary", responses=_ERRORS,
    summary="خلاصهٔ صورت‌وضعیت — The statement's summary",
    description="مبالغ به ریال، گردش امضا و نوبت، نتیجه و علت، چکیده‌ها.\n\n"
                "Amounts in rials, the signing path and whose turn it is, result and reason, hashes.")
async def get_statement_summary(tender_id: str, ref: str, deps: DepsParam, actor: ActorParam) -> dict[str, Any]:
    data: dict[str, Any] = await run_in_threadpool(svc.statement_view, deps, tender_id, ref, _signatory(actor))
    return data


@router.post(
    "/tenders/{tender_id}/contract/statements/{ref}/signatures", status_code=201, openapi_extra=SIGNED_XML_BODY,
    responses=_ERRORS,
    summary="امضای بعدی گردش صورت‌وضعیت — The next signature of the statement's path",
    description="بدنه: همان سند ذخیره‌شده با یک امضای تازه، با توکن کسی که نوبت اوست (پیمانکار، ناظر قرارداد، بازبین "
                "کارفرما، معاون در مسیر سخت‌گیرانه، ذی‌حساب) و با سمت نشست او. نوبت دیگری WRONG_STAGE. با آخرین امضا "
                "صورت‌وضعیت نهایی و در کنترل پروژه ثبت می‌شود (R17، R18).\n\n"
                "Body: the stored document with one new signature, on the token of whoever's turn it is "
                "(contractor, the contract's supervisor, employer's reviewer, the deputy on the stricter path, "
                "treasurer) as their session's role. Someone else's turn: WRONG_STAGE. The last signature settles "
                "it and project control records it (R17, R18).")
async def post_statement_signature(tender_id: str, ref: str, request: Request, deps: DepsParam,
                                   actor: ActorParam) -> dict[str, Any]:
    async with spooled(request, limit=request.app.state.max_body_bytes) as body:
        xml = body.read_all()
    received_at = deps.clock.now()
    data: dict[str, Any] = await run_in_threadpool(svc.receive_statement_signature, deps, tender_id, ref, xml,
                                                   _signatory(actor), received_at)
    return data
