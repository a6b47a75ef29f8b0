"""The tender as the transactions system runs it, one module per step:

- `view`: load a tender as the store holds it;
- `announce`: register, split the opening key, publish the notice (R02);
- `submission`: receive sealed, signed bids and sign receipts (R05, R07, R08);
- `sessions`: the commission's sittings, opening A, B and C in order (R08);
- `minutes`: generate and confirm the Article 13 minutes, and receive the members' signatures made at
  their stations in the session (R06, R09, R10);
- `notification`: the Article 18 notification, signed by the chair at their station, and the
  contract-signature round (R11);
- `status`: the tender's stored status, moved forward only.

Each step reads what the store already holds first, so a retried or restarted flow never
submits, opens or signs twice. Rules come from domain/; cryptography from sealing/ and signing/.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from services.lazy import lazy_exports

if TYPE_CHECKING:
    from services.tender.announce import announce, notice_text
    from services.tender.minutes import (
        ARTICLE13,
        MinutesResult,
        SessionResult,
        Signatory,
        ToSign,
        all_signed,
        award_summary,
        block,
        chair_of,
        conclude,
        confirm_minutes,
        draft_minutes,
        final_minutes,
        minutes_confirmed,
        minutes_exist,
        minutes_to_sign,
        receive_signature,
        record_signature,
        signed_minutes,
    )
    from services.tender.notification import (
        NotificationDraft,
        SigningOutcome,
        candidates,
        close_signing,
        draft_notification,
        forfeit_guarantee,
        notify_winner,
        record_signature_answer,
        signing_deadline,
    )
    from services.tender.release import open_sitting, quorum_released, released_members, require_released
    from services.tender.sessions import (
        HeldSession,
        SessionOutcome,
        accept_attendance,
        opening_session,
        participants_for,
        price_session,
        session_time,
        stored_session,
    )
    from services.tender.submission import SubmissionResult, check_bidder_signature, submit_bid
    from services.tender.view import TenderView, load, price_list_of

_HOMES = {
    "announce": ("announce", "notice_text"),
    "minutes": (
        "ARTICLE13", "MinutesResult", "SessionResult", "Signatory", "ToSign", "all_signed", "award_summary", "block",
        "chair_of", "conclude", "confirm_minutes", "draft_minutes", "final_minutes", "minutes_confirmed",
        "minutes_exist", "minutes_to_sign", "receive_signature", "record_signature", "signed_minutes",
    ),
    "notification": (
        "NotificationDraft", "SigningOutcome", "candidates", "close_signing", "draft_notification",
        "forfeit_guarantee", "notify_winner", "record_signature_answer", "signing_deadline",
    ),
    "release": ("open_sitting", "quorum_released", "released_members", "require_released"),
    "sessions": (
        "HeldSession", "SessionOutcome", "accept_attendance", "opening_session", "participants_for", "price_session",
        "session_time", "stored_session",
    ),
    "submission": ("SubmissionResult", "check_bidder_signature", "submit_bid"),
    "view": ("TenderView", "load", "price_list_of"),
}
lazy_exports(__name__, _HOMES)

__all__ = [
    "ARTICLE13", "NotificationDraft", "Signatory", "ToSign", "all_signed", "draft_notification", "minutes_to_sign",
    "receive_signature", "signed_minutes",
    "HeldSession", "open_sitting", "quorum_released", "released_members", "require_released",
    "accept_attendance",
    "record_signature_answer", "MinutesResult", "SessionOutcome", "SessionResult", "SigningOutcome", "SubmissionResult", "TenderView",
    "announce", "award_summary", "block", "candidates", "chair_of", "check_bidder_signature", "close_signing",
    "conclude", "confirm_minutes", "draft_minutes", "final_minutes", "forfeit_guarantee", "load", "minutes_confirmed",
    "minutes_exist", "notice_text", "notify_winner", "opening_session", "participants_for", "price_list_of",
    "price_session", "record_signature", "session_time", "signing_deadline", "stored_session", "submit_bid",
]
