"""Members release their parts of the bids' keys at a sitting, from their own stations (issue 12; R04,
R08; "Stations and trust").

Every bid carries its own opening key, dealt by the bidder's tool to the commission's seats
(sealing.envelopes.seal_dealt). Nobody holds the means to open a bid before the sitting: not the
engine (it never had a key), not one member (a Shamir share or the security part alone opens
nothing). At the sitting:

1. `open_sitting`: at the sitting's time the engine makes a key pair on its own token for this sitting
   only and publishes its public half in a SessionKey document it signs.
2. `parts_for`: a member's station fetches its parts of every current bid (still wrapped to the
   member's certificate) with the signed SessionKey.
3. The station unwraps them on the member's own token, encrypts them to the session key and sends a
   PartsRelease signed on the token; `receive_release` checks and stores it, still wrapped.
4. `released_parts` (services.tender.sessions, when the chair has confirmed attendance and the quorum
   and the security representative have released): the engine unwraps each release on its token;
   each bid's key is rebuilt from its plan (sealing.opening_key.rebuild_private_key).
5. `close_sitting`: when the sitting is recorded, the session key is destroyed on the token.
"""
from __future__ import annotations

import base64
import hashlib
import json
import threading
import weakref
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from lxml import etree

from domain.documents.session import (
    SessionKeyContent,
    build_session_key,
    read_parts_release,
    release_ad,
)
from domain.reasons import DomainError, Reason
from domain.tender.commission import Member
from domain.tender.state import check_opening_time
from sealing.envelopes import BlobHeader, SealedBid, bid_key_id
from services.auth import VerifiedDocument
from services.deps import Deps
from services.signers import ENGINE_ROLE, ENGINE_UNIT
from services.tender.view import ENGINE_ACTOR, TenderView, load
from signing.keytransport import choose_mechanism
from signing.token import Token
from store import models as m

MEMBER_ROLES = ("chair", "finance", "technical", "legal", "security")


@dataclass(frozen=True)
class Sitting:
    """A sitting open for releases: its signed SessionKey (XML) and that document's SHA-256."""

    tender_id: str
    session: str
    xml: bytes
    sha256: str


def key_label(tender_id: str, session: str) -> str:
    """The label of a sitting's key pair on the engine's token (hashed: token labels are short)."""
    return "sk-" + hashlib.sha256(f"{tender_id}/{session}".encode()).hexdigest()[:24]


def open_sitting(deps: Deps, tender_id: str, session: str) -> Sitting:
    """Make (once) the sitting's key pair on the engine's own token and the SessionKey document the
    engine signs; audited as `session.key`. Calling again returns the same sitting.

    Raises: OPENING_TOO_EARLY (before the sitting's time), WRONG_STAGE (the sitting was already held),
    TOKEN_NOT_FOUND, TOKEN_PIN_INVALID (the engine's token). Rule: issue 12; R08."""
    from services.tender.sessions import session_time, stored_session

    view = load(deps, tender_id)
    check_opening_time(deps.clock.now(), session_time(view.spec, session))
    with deps.uow() as uow:
        row = uow.session_keys.get(tender_id, session)
    if row is not None:
        return Sitting(tender_id, session, row.xml, row.sha256)
    if stored_session(deps, tender_id, session) is not None:
        raise DomainError(Reason.WRONG_STAGE, f"جلسهٔ «{session}» مناقصهٔ «{tender_id}» پیش‌تر برگزار شده است")
    engine = deps.engine()
    label = key_label(tender_id, session)
    with Token(engine.token_label, pin=engine.pin) as token:
        token.delete_key(label)  # a key left by a crash before its row was stored
        public = token.generate_keypair(label)
        mechanism = choose_mechanism(token, label)
    now = deps.clock.now()
    doc = build_session_key(SessionKeyContent(tender_id, session, public.public_bytes(
        Encoding.DER, PublicFormat.SubjectPublicKeyInfo), mechanism, now))
    xml = etree.tostring(engine.sign(doc, deps.clock, ENGINE_ROLE, ENGINE_UNIT), xml_declaration=True,
                         encoding="UTF-8")
    digest = hashlib.sha256(xml).hexdigest()
    with deps.uow() as uow:
        uow.session_keys.add(m.SessionKey(tender_id=tender_id, session=session, key_label=label, mechanism=mechanism,
                                          xml=xml, sha256=digest, created_at=now))
        uow.record(at=now, actor=ENGINE_ACTOR, action="session.key", entity="tender", entity_id=tender_id,
                   payload={"session": session, "sha256": digest})
        uow.commit()
    return Sitting(tender_id, session, xml, digest)


def sitting(deps: Deps, tender_id: str, session: str) -> Sitting:
    """The sitting open for releases. Raises: WRONG_STAGE (not open yet, or closed)."""
    with deps.uow() as uow:
        row = uow.session_keys.get(tender_id, session)
    if row is None or row.closed_at is not None:
        raise DomainError(Reason.WRONG_STAGE, f"جلسهٔ «{session}» مناقصهٔ «{tender_id}» برای آزادسازی سهم‌ها باز نیست")
    return Sitting(tender_id, session, row.xml, row.sha256)


def member_of(view: TenderView, national_id: str, role: str) -> Member:
    """The commission member (or alternate) `national_id` sitting as `role`.

    Raises: NOT_AUTHORISED (not in this tender's commission in that role). Rule: R04."""
    found = next((mm for mm in view.members if mm.national_id == national_id and mm.role.value == role), None)
    if found is None:
        raise DomainError(Reason.NOT_AUTHORISED, f"{national_id} با سمت {role} عضو کمیسیون این مناقصه نیست")
    return found


def parts_for(deps: Deps, tender_id: str, session: str, national_id: str, role: str) -> dict[str, Any]:
    """What a member's station fetches: {tender_id, session, member_id, session_key (signed XML, UTF-8
    text), parts: [{bidder_id, seq, key_id, share}]}, `share` being the member's part of that bid's key
    as the bidder wrapped it to the member's certificate (sealing.opening_key.EncryptedShare).

    Raises: WRONG_STAGE (the sitting is not open), NOT_AUTHORISED (not a member in that role).
    Rule: issue 12."""
    view = load(deps, tender_id)
    member = member_of(view, national_id, role)
    open_ = sitting(deps, tender_id, session)
    parts = list(_sitting_parts(deps, open_).get(member.id, ()))
    return {"tender_id": tender_id, "session": session, "member_id": member.id,
            "session_key": open_.xml.decode("utf-8"), "parts": parts}


# Per store: every member's parts of its open sittings, read once per sitting: (tender, session,
# SessionKey SHA-256) -> member id -> parts as parts_for lists them. Only wrapped parts (each encrypted
# to its member's certificate by the bidder), as the store holds them; forgotten when the sitting closes.
_PARTS: weakref.WeakKeyDictionary[object, dict[tuple[str, str, str], dict[str, list[dict[str, Any]]]]] = \
    weakref.WeakKeyDictionary()
_PARTS_LOCK = threading.Lock()
_PARTS_KEPT = 4  # sittings kept at most per store (a process serves few sittings at a time)


def _sitting_parts(deps: Deps, open_: Sitting) -> dict[str, list[dict[str, Any]]]:
    """Member id -> that member's parts of every current bid of the open sitting `open_`, read from the
    bids' headers at the sitting's first request (in order of receipt) and kept until it closes: the
    members fetching at once do not each read every header (the first reads, the others wait for it).
    The bids cannot change once the sitting is open (submission closed at the deadline, before it)."""
    key = (open_.tender_id, open_.session, open_.sha256)
    with _PARTS_LOCK:
        kept = _PARTS.setdefault(deps.sessions, {})
        found = kept.get(key)
        if found is None:
            found = {}
            with deps.uow() as uow:
                # The headers only (a few KB each), never the ciphertexts.
                for bid_id, bidder_ref, seq, head in uow.bids.current_prefixes(open_.tender_id, BlobHeader.PREFIX):
                    if BlobHeader.length_from_prefix(head) > len(head):  # an unusually long header
                        head = sealed_header(uow, bid_id)
                    plan = SealedBid.key_plan_from_bytes(head)
                    if plan is None:
                        continue
                    listed: set[str] = set()
                    for share in plan.shares:
                        if share.recipient_id not in listed:  # a member's first share of the plan, as before
                            listed.add(share.recipient_id)
                            found.setdefault(share.recipient_id, []).append(
                                {"bidder_id": bidder_ref, "seq": seq, "key_id": plan.tender_id,
                                 "share": share.to_dict()})
            kept[key] = found
            while len(kept) > _PARTS_KEPT:
                del kept[next(iter(kept))]
    return found


def _forget_parts(deps: Deps, tender_id: str, session: str) -> None:
    with _PARTS_LOCK:
        kept = _PARTS.get(deps.sessions, {})
        for key in [k for k in kept if k[:2] == (tender_id, session)]:
            del kept[key]


def sealed_header(uow: Any, bid_id: int) -> bytes:
    """The leading bytes of bid `bid_id`'s sealed blob that hold its header (key plan, envelope
    lengths), read without its ciphertexts (`uow`: an open store.uow.UnitOfWork).

    Raises: INVALID_INPUT (the blob is not a sealed bid's)."""
    _, (head,) = uow.bids.sealed_slices(bid_id, [(0, BlobHeader.PREFIX)])
    needed = BlobHeader.length_from_prefix(head)
    if needed > len(head):  # an unusually long header: read all of it
        _, (head,) = uow.bids.sealed_slices(bid_id, [(0, needed)])
    return head


@dataclass(frozen=True)
class ReleaseReceipt:
    """A release as stored: member id, how many parts, the SHA-256 of the signed request."""

    member_id: str
    count: int
    sha256: str


def receive_release(deps: Deps, tender_id: str, session: str, doc: VerifiedDocument) -> ReleaseReceipt:
    """Store a member's signed PartsRelease `doc` (verified at receipt as role@unit of the tender's
    unit): for this open sitting and its current session key, by that member. Sending the same
    release again is a no-op; another one after it is refused. Audited as `session.released`.

    Raises: MALFORMED_XML, INVALID_INPUT (another tender, sitting, member or session key), WRONG_STAGE
    (the sitting is not open, or the member already released other parts), NOT_AUTHORISED.
    Rule: issue 12 (parts released for that sitting only, never stored unwrapped)."""
    r = read_parts_release(doc.root)
    view = load(deps, tender_id)
    member = member_of(view, doc.national_id, doc.role)
    if doc.unit != view.spec.unit:
        raise DomainError(Reason.NOT_AUTHORISED, "نشست در واحد دیگری است")
    open_ = sitting(deps, tender_id, session)
    if (r.tender_id, r.session, r.member_id) != (tender_id, session, member.id):
        raise DomainError(Reason.INVALID_INPUT, "سهم‌ها برای مناقصه، جلسه یا عضو دیگری آزاد شده است")
    if r.session_key_sha256 != open_.sha256:
        raise DomainError(Reason.INVALID_INPUT, "سهم‌ها برای کلید جلسهٔ دیگری رمز شده است")
    digest = hashlib.sha256(doc.xml).hexdigest()
    with deps.uow() as uow:
        existing = uow.releases.get(tender_id, session, member.id)
        if existing is not None:
            if existing.sha256 == digest:
                return ReleaseReceipt(member.id, r.count, digest)
            raise DomainError(Reason.WRONG_STAGE, f"عضو «{member.id}» سهم‌های این جلسه را پیش‌تر آزاد کرده است")
        uow.releases.add(m.PartsRelease(tender_id=tender_id, session=session, member_id=member.id,
                                        national_id=doc.national_id, released_at=doc.received_at, xml=doc.xml,
                                        sha256=digest))
        uow.record(at=doc.received_at, actor=doc.national_id, action="session.released", entity="tender",
                   entity_id=tender_id, payload={"session": session, "member": member.id, "parts": r.count,
                                                 "sha256": digest})
        uow.commit()
    return ReleaseReceipt(member.id, r.count, digest)


def released_members(deps: Deps, tender_id: str, session: str) -> list[str]:
    """Member ids whose release for the sitting is stored, in order of receipt. Raises nothing."""
    with deps.uow() as uow:
        return [row.member_id for row in uow.releases.for_session(tender_id, session)]


def require_released(deps: Deps, tender_id: str, session: str) -> None:
    """The released seats open the bids: the security part and `threshold` voting seats (after the
    wait for the members ended, nothing can be opened otherwise, whoever is present).

    Raises: QUORUM_NOT_MET, SECURITY_REP_ABSENT (sealing.opening_key.OpeningSeats.check_released),
    INVALID_INPUT (unknown tender). Rule: R08."""
    load(deps, tender_id).seats.check_released(released_members(deps, tender_id, session))


def quorum_released(deps: Deps, tender_id: str, session: str) -> bool:
    """Whether the released seats already open the bids (the security part and the threshold of voting
    seats: sealing.opening_key.OpeningSeats.check_released). Raises: INVALID_INPUT (unknown tender)."""
    try:
        load(deps, tender_id).seats.check_released(released_members(deps, tender_id, session))
    except DomainError as exc:
        if exc.reason in (Reason.QUORUM_NOT_MET, Reason.SECURITY_REP_ABSENT):
            return False
        raise
    return True


def released_parts(deps: Deps, tender_id: str, session: str, members: list[str]) -> dict[str, dict[str, bytes]]:
    """The parts released by `members` for the sitting, unwrapped on the engine's token with the
    sitting's key: member id -> {bid key id -> part}. Only called when the sitting decrypts.

    Raises: WRONG_STAGE (the sitting is not open), STORE_TAMPERED (a stored release no longer decrypts
    under the sitting's key, or names another member), TOKEN_NOT_FOUND, TOKEN_PIN_INVALID."""
    from domain.xmlsafe import parse_untrusted
    from signing.xmldsig import signed_document_root

    sitting(deps, tender_id, session)
    with deps.uow() as uow:
        key = uow.session_keys.get(tender_id, session)
        rows = [row for row in uow.releases.for_session(tender_id, session) if row.member_id in set(members)]
    assert key is not None
    engine = deps.engine()
    out: dict[str, dict[str, bytes]] = {}
    with Token(engine.token_label, pin=engine.pin) as token:
        for row in rows:
            r = read_parts_release(signed_document_root(parse_untrusted(row.xml)))
            if r.member_id != row.member_id or r.session_key_sha256 != key.sha256:
                raise DomainError(Reason.STORE_TAMPERED, f"آزادسازی ذخیره‌شدهٔ عضو «{row.member_id}» دست خورده است")
            try:
                batch_key = token.decrypt(key.key_label, r.wrapped_key, key.mechanism)
                plain = AESGCM(batch_key).decrypt(r.nonce, r.ciphertext, release_ad(tender_id, session, r.member_id))
                parts = json.loads(plain)
            except (InvalidTag, ValueError, DomainError) as exc:
                if isinstance(exc, DomainError) and exc.reason in (Reason.TOKEN_NOT_FOUND, Reason.TOKEN_PIN_INVALID):
                    raise
                raise DomainError(Reason.STORE_TAMPERED, f"سهم‌های آزادشدهٔ عضو «{row.member_id}» گشوده نشد") from None
            out[row.member_id] = {str(k): base64.b64decode(v) for k, v in parts.items()}
    return out


def bid_parts(parts: dict[str, dict[str, bytes]], tender_id: str, bidder_id: str) -> dict[str, bytes]:
    """From released_parts: member id -> part of the bid `bidder_id`'s key (members who released one)."""
    kid = bid_key_id(tender_id, bidder_id)
    return {mid: by_key[kid] for mid, by_key in parts.items() if kid in by_key}


def close_sitting(deps: Deps, tender_id: str, session: str) -> None:
    """Destroy the sitting's key on the engine's token once the sitting is recorded: its releases can
    never be read again. Idempotent. Raises: TOKEN_NOT_FOUND, TOKEN_PIN_INVALID."""
    with deps.uow() as uow:
        row = uow.session_keys.get(tender_id, session)
        if row is None or row.closed_at is not None:
            return
    engine = deps.engine()
    with Token(engine.token_label, pin=engine.pin) as token:
        token.delete_key(row.key_label)
    with deps.uow() as uow:
        stored = uow.session_keys.get(tender_id, session)
        assert stored is not None
        stored.closed_at = deps.clock.now()
        uow.record(at=stored.closed_at, actor=ENGINE_ACTOR, action="session.key_destroyed", entity="tender",
                   entity_id=tender_id, payload={"session": session})
        uow.commit()
    _forget_parts(deps, tender_id, session)  # after the close is stored: no request caches them again
