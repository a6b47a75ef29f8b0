"""The stations of a contract's people (issue 13 parts 1 and 2; R12, R13, R17, R18, R29; "Stations and
trust"): the contracts officer opens the contract and enters its terms, each stage's approver reads
the contract document and signs the stage's approval on their own token, the contractor submits
cumulative status statements and signs the computed statement, and each signer of its path signs it
in turn. Nothing is signed anywhere else.

    open_contract(station, tender_id, bidder=None)           -> the contract (services.contract.at_stations.contract_view)
    show_contract(station, tender_id)                        -> the same
    enter_terms(station, tender_id, TermsEntry)              -> the contract after the terms
    approve_stage(station, tender_id, stage=None, expected_sha256=None) -> the contract after the approval
    inbox(station)                                           -> what waits for this person
    submit_statement(station, tender_id, ref, items, vehicles=None, workers=None) -> the statement, signed by the contractor
    show_statement(station, tender_id, ref)                  -> (bytes checked against their SHA-256, summary)
    sign_statement(station, tender_id, ref, expected_sha256=None) -> the statement after this signature

`station` is logged in as the person's own role in the contract's unit (the contractor as
company_signatory for its company). Every function raises what the station raises (the API's
refusals with their reason codes, STORE_UNREACHABLE, TOKEN_*) plus the checks it names.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from domain.contract.statement import CONTRACTOR
from domain.contract.workflow import CONTRACTOR_SIGNATORY
from domain.documents.xmlcommon import body_digest
from domain.reasons import DomainError, Reason
from domain.xmlsafe import parse_untrusted
from services.contract.requests import TermsEntry, build_opening, build_stage, build_submission, build_terms
from services.signers import COMPANY_SIGNATORY
from signing.xmldsig import is_envelope, signed_document_root
from stations.client import XML, Station

SHA256_HEADER = "X-Eproc-SHA256"
STATEMENT_NS = "{urn:tehran:eproc:status-statement:1}"


def contract_path(tender_id: str) -> str:
    """The API path of the tender's contract."""
    return f"/v1/tenders/{quote(tender_id, safe='')}/contract"


def _json(data: Any) -> dict[str, Any]:
    return data if isinstance(data, dict) else {}


def open_contract(station: Station, tender_id: str, bidder: str | None = None) -> dict[str, Any]:
    """Open the tender's contract from its final minutes (the winner, or `bidder`), signed on the
    contracts officer's token. Raises: WRONG_STAGE (minutes not final), NOT_AUTHORISED, NOT_FOUND."""
    return _json(station.post_signed(contract_path(tender_id), build_opening(tender_id, bidder)).json())


def show_contract(station: Station, tender_id: str) -> dict[str, Any]:
    """The contract as the engine holds it (terms, stage, who it waits for, approvals, document hash).
    Raises: NOT_FOUND, NOT_AUTHORISED."""
    return _json(station.get(contract_path(tender_id)).json())


def enter_terms(station: Station, tender_id: str, terms: TermsEntry) -> dict[str, Any]:
    """Enter `terms` (only what is set changes), signed on the station's token.

    Raises: INVALID_INPUT (a code not in its registry, a person without the role), WRONG_STAGE."""
    view = show_contract(station, tender_id)
    return _json(station.post_signed(contract_path(tender_id) + "/terms",
                                     build_terms(view["tracking_number"], tender_id, terms)).json())


def contract_document(station: Station, tender_id: str) -> tuple[bytes, str]:
    """(the contract document's bytes, the SHA-256 of its Body computed here from those bytes).

    Raises: INVALID_INPUT (the bytes are not those the engine states)."""
    response = station.get(contract_path(tender_id) + "/document")
    xml = response.content
    if not hmac.compare_digest(hashlib.sha256(xml).hexdigest(), response.headers.get(SHA256_HEADER, "")):
        raise DomainError(Reason.INVALID_INPUT, "چکیدهٔ سند قرارداد دریافتی با چکیده‌ای که سامانه اعلام کرده نمی‌خواند")
    return xml, body_digest(parse_untrusted(xml))


def approve_stage(station: Station, tender_id: str, stage: str | None = None,
                  expected_sha256: str | None = None) -> dict[str, Any]:
    """Read the contract document, check it (`expected_sha256`: the Body hash the person read with
    `show_contract`), and sign the approval of `stage` (default: the current one) as the station's
    role (the contractor's signatory for a company session) on its token.

    Raises: INVALID_INPUT (the document is not the one read); WRONG_STAGE (another stage, or the
    document changed); NOT_AUTHORISED (not the person the stage waits for); FIELD_MISSING,
    BUDGET_LINE_MISSING, EXPENSE_FACTOR_MISSING. Rule: R12, R13."""
    view = show_contract(station, tender_id)
    _xml, sha = contract_document(station, tender_id)
    if expected_sha256 is not None and expected_sha256.strip().lower() != sha:
        raise DomainError(Reason.INVALID_INPUT, "سند قرارداد با آنچه خوانده‌اید نمی‌خواند؛ دوباره بخوانید")
    role = CONTRACTOR_SIGNATORY if station.role == COMPANY_SIGNATORY else station.role
    doc = build_stage(view["tracking_number"], tender_id, stage or view["stage"], role, sha)
    return _json(station.post_signed(contract_path(tender_id) + "/approvals", doc).json())


def inbox(station: Station) -> dict[str, Any]:
    """What waits for the station's person in their session's unit (R29: the treasurer's inbox)."""
    return _json(station.get("/v1/inbox").json())


def _statement_path(tender_id: str, ref: str) -> str:
    return f"{contract_path(tender_id)}/statements/{quote(ref, safe='')}"


def show_statement(station: Station, tender_id: str, ref: str) -> tuple[bytes, dict[str, Any]]:
    """(the statement's stored bytes, checked against the SHA-256 the engine states, its summary).

    Raises: INVALID_INPUT (the bytes differ), NOT_FOUND, NOT_AUTHORISED."""
    path = _statement_path(tender_id, ref)
    info = _json(station.get(path + "/summary").json())
    response = station.get(path)
    xml = response.content
    if not hmac.compare_digest(hashlib.sha256(xml).hexdigest(), response.headers.get(SHA256_HEADER, "")):
        raise DomainError(Reason.INVALID_INPUT, "چکیدهٔ صورت‌وضعیت دریافتی با چکیده‌ای که سامانه اعلام کرده نمی‌خواند")
    return xml, info


def _items_of(xml: bytes) -> dict[str, Decimal]:
    doc = parse_untrusted(xml)
    root = signed_document_root(doc) if is_envelope(doc) else doc
    return {el.get("code", ""): Decimal(el.get("quantity", "0")) for el in root.iter(f"{STATEMENT_NS}Item")}


def sign_statement(station: Station, tender_id: str, ref: str, expected_sha256: str | None = None,
                   items: dict[str, Decimal] | None = None) -> dict[str, Any]:
    """Fetch the statement, check it (`expected_sha256`: of its bytes or its body; `items`: the
    quantities the contractor submitted), sign exactly those bytes on the token and send the
    signature. When another signature landed first (WRONG_STAGE) it is fetched and signed once more.

    Returns the engine's summary after the signature, with "sent": True; or "sent": False when it is
    not this person's turn (someone else's turn, or the review ended).
    Raises: INVALID_INPUT (not the bytes or items read); NOT_AUTHORISED; WRONG_STAGE; the API's
    refusals (SIGNATURE_INVALID, CERT_*, SIGNING_TIME_SKEW, ...). Rule: R17, R18."""
    mine = CONTRACTOR if station.role == COMPANY_SIGNATORY else station.role
    for attempt in range(2):
        xml, info = show_statement(station, tender_id, ref)
        if expected_sha256 is not None and expected_sha256.strip().lower() not in (info["sha256"], info["body_sha256"]):
            raise DomainError(Reason.INVALID_INPUT, "صورت‌وضعیت با آنچه خوانده‌اید نمی‌خواند؛ دوباره بخوانید")
        if items is not None and _items_of(xml) != items:
            raise DomainError(Reason.INVALID_INPUT, "ردیف‌های صورت‌وضعیت محاسبه‌شده همان ردیف‌های فرستاده نیست")
        if info.get("next_role") != mine:
            return {**info, "sent": False}
        try:
            answer = station.request("POST", _statement_path(tender_id, ref) + "/signatures",
                                     content=station.sign(parse_untrusted(xml)), headers=XML).json()
            return {**_json(answer), "sent": True}
        except DomainError as exc:
            if exc.reason is not Reason.WRONG_STAGE or attempt:
                raise
    raise DomainError(Reason.WRONG_STAGE, "امضا پس از دوباره‌خوانی هم پذیرفته نشد")  # not reached


def submit_statement(station: Station, tender_id: str, ref: str, items: Iterable[tuple[str, Decimal]],
                     vehicles: int | None = None, workers: int | None = None) -> dict[str, Any]:
    """The contractor's cumulative statement `ref` (quantity to date per price-list item; waste
    services: active vehicles and workers), signed on the contractor's token; then the computed
    statement, checked to carry those quantities, signed too (the first signature of its path).

    Raises: NO_CONTRACT_CODE, CONTRACT_NOT_FINAL (R13, R14); INVALID_INPUT; NOT_AUTHORISED (not the
    contractor's signatory). Rule: R17, R18."""
    items = tuple((code, Decimal(qty)) for code, qty in items)
    view = show_contract(station, tender_id)
    station.post_signed(contract_path(tender_id) + "/statements",
                        build_submission(view["tracking_number"], tender_id, ref, items, vehicles, workers))
    return sign_statement(station, tender_id, ref, items=dict(items))
