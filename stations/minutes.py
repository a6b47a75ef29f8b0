"""The commission members' stations for the Article 13 minutes and the Article 18 notification (issue
12 part 3; R06, R10, R11; "Stations and trust"): each member reads the stored document at their own
station, checks that the bytes received are those the engine states (SHA-256), reads the summary
made here from those bytes, signs them on their own token and sends the signature, which the engine
verifies at receipt. Nothing is signed anywhere else: no draft circulates, no inbox (R10).

    show_minutes(station, tender_id, kind)                        -> ToSign (summary made from the bytes)
    sign_minutes(station, tender_id, kind, expected_sha256=None)  -> {"sent": bool, ...the engine's summary}

`station` is logged in as the member's own role in the tender's unit (`Station.login(role, unit)`);
`kind` is article13, article18 or article18-2. Every function raises what the station raises (the
API's refusals with their reason codes, STORE_UNREACHABLE, TOKEN_*) plus the checks it names.
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import quote

from domain.reasons import DomainError, Reason
from domain.tender.commission import Member
from domain.xmlsafe import parse_untrusted
from services.tender.minutes import ToSign, check_kind, describe
from stations.client import XML, Station

SHA256_HEADER = "X-Eproc-SHA256"
FINAL_HEADER = "X-Eproc-Final"


def minutes_path(tender_id: str, kind: str) -> str:
    """The API path of the tender's document `kind` (GET: its bytes; /summary; /signatures)."""
    return f"/v1/tenders/{quote(tender_id, safe='')}/minutes/{quote(check_kind(kind), safe='')}"


def show_minutes(station: Station, tender_id: str, kind: str) -> ToSign:
    """The tender's stored document `kind` as this station reads it: its exact bytes, checked against
    the SHA-256 the engine states with them, and the Persian summary (award and prices, or the
    notification's terms; who must sign and who has) made here from those bytes. Who must sign is
    the engine's answer.

    Raises: INVALID_INPUT (the bytes are not those the engine states; unknown kind); MALFORMED_XML
    (not this kind of document, or another tender's); the API's refusals (NOT_FOUND, NOT_AUTHORISED,
    WRONG_STAGE when not generated yet). Rule: R10 (members sign the original minutes in the session)."""
    path = minutes_path(tender_id, kind)
    info = station.get(path + "/summary").json()
    response = station.get(path)
    xml = response.content
    if not hmac.compare_digest(hashlib.sha256(xml).hexdigest(), response.headers.get(SHA256_HEADER, "")):
        raise DomainError(Reason.INVALID_INPUT, "چکیدهٔ سند دریافتی با چکیده‌ای که سامانه اعلام کرده نمی‌خواند")
    try:
        required = [Member(r["member"], r["role"], r["national_id"], None, r.get("name") or "")
                    for r in info["required"]]
    except (KeyError, TypeError, ValueError):
        raise DomainError(Reason.INVALID_INPUT, "فهرست امضاکنندگان لازم در پاسخ سامانه خوانا نیست") from None
    return describe(tender_id, kind, xml, required, response.headers.get(FINAL_HEADER) == "true")


def sign_minutes(station: Station, tender_id: str, kind: str, expected_sha256: str | None = None) -> dict[str, Any]:
    """Fetch the tender's document `kind` (`show_minutes`), sign exactly those bytes on the station's
    token as its session's role and unit, and send the signature. `expected_sha256`: the hash the
    person read (`show_minutes`: of the exact bytes, or of the body, which stays the same while others
    sign); the bytes fetched must have it. When another member's signature landed first (WRONG_STAGE),
    the document is fetched and signed once more, provided its body is unchanged.

    Returns {"sent": True, ...the engine's summary after the signature (ToSign.to_dict)} or, when there
    was nothing to sign (this person has signed, or the document is final), {"sent": False, ...as read}.

    Raises: INVALID_INPUT (the fetched bytes do not have `expected_sha256`; see `show_minutes`);
    NOT_AUTHORISED (this person is not among those who must sign); WRONG_STAGE (stale again, or the
    body changed: a new version to read first); the API's refusals (SIGNATURE_INVALID, CERT_*,
    SIGNING_TIME_SKEW, MINUTES_FINAL, ...); TOKEN_*. Rule: R10, R11."""
    path = minutes_path(tender_id, kind)
    shown = show_minutes(station, tender_id, kind)
    if expected_sha256 is not None and expected_sha256.strip().lower() not in (shown.sha256, shown.body_sha256):
        raise DomainError(Reason.INVALID_INPUT, "چکیدهٔ سند دریافتی با چکیده‌ای که خوانده‌اید نمی‌خواند؛ آن را دوباره "
                                                "بخوانید («eproc minutes show») و با چکیدهٔ تازه امضا کنید")
    for attempt in range(2):
        mine = [mm for mm in shown.required if mm.national_id == station.national_id]
        if shown.final or any(mm.id in shown.signed for mm in mine):
            return {**shown.to_dict(), "sent": False}
        if not mine:
            raise DomainError(Reason.NOT_AUTHORISED, "شما از امضاکنندگان لازم این سند نیستید")
        upload = station.sign(parse_untrusted(shown.xml))
        try:
            answer: dict[str, Any] = station.request("POST", path + "/signatures", content=upload,
                                                     headers=XML).json()
            return {**answer, "sent": True}
        except DomainError as exc:
            if exc.reason is not Reason.WRONG_STAGE or attempt:
                raise
        body = shown.body_sha256
        shown = show_minutes(station, tender_id, kind)
        if shown.body_sha256 != body:
            raise DomainError(Reason.WRONG_STAGE, "متن سند پس از خواندن شما عوض شده است (نسخهٔ تازه)؛ آن را "
                                                  "دوباره بخوانید و امضا کنید")
    raise DomainError(Reason.WRONG_STAGE, "امضا پس از دوباره‌خوانی هم پذیرفته نشد")  # not reached
