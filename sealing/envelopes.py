"""Sealed bid envelopes: AES-256-GCM per envelope, each key wrapped to the bid's opening key.

Key wrap is ECIES: one ephemeral X25519 key per bid, ECDH with the opening public key,
HKDF-SHA256 to a key-encryption key, AES-GCM over each envelope key. Associated data binds
tender id, bidder id and envelope letter, so a ciphertext or wrapped key moved to another bid
or letter fails its tag. The receipt keeps each ciphertext's SHA-256, checked before decrypting.

No single holder (issue 12): `seal_dealt` makes the bidder's own tool the dealer of its bid's
opening key. It creates the key pair, splits the private half among the commission's seats named
in the signed notice (sealing.opening_key.create_opening_key: the security representative's part
AND a Shamir share per voting seat, each wrapped to the certificates of the seat's member and
alternates), seals to the public half and forgets the private half. The plan (public key and
wrapped shares) travels in the sealed bid and its SHA-256 in the signed manifest.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import cached_property
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from lxml import etree

from domain.persian import format_jalali_datetime
from domain.reasons import DomainError, Reason
from sealing.opening_key import KeyWrapper, OpeningKeyPlan, create_opening_key

LETTERS = ("A", "B", "C")
BID_FORMAT = "eproc-sealed-bid/1"
_BLOB_MAGIC = b"EPROC-SEALED-BID/1\n"
MANIFEST_NS = "urn:eproc:bid-manifest:1"
_NONCE_LEN = 12
_KEY_LEN = 32
_WRAPPED_LEN = _NONCE_LEN + _KEY_LEN + 16
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class SealedEnvelope:
    letter: str
    ciphertext: bytes    # AES-256-GCM output, tag included
    nonce: bytes
    wrapped_key: bytes   # nonce || AES-GCM(KEK, envelope key)
    sha256: str          # hex of the ciphertext: what the receipt records

    @property
    def size(self) -> int:
        return len(self.ciphertext)

    def to_dict(self, *, ciphertext: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"letter": self.letter, "nonce": _b64(self.nonce),
                               "wrapped_key": _b64(self.wrapped_key), "sha256": self.sha256}
        if ciphertext:
            out["ciphertext"] = _b64(self.ciphertext)
        else:
            out["length"] = len(self.ciphertext)
        return out


@dataclass(frozen=True)
class SealedBid:
    tender_id: str
    bidder_id: str
    opening_public_key_b64: str
    ephemeral_public_key_b64: str
    envelopes: tuple[SealedEnvelope, ...]
    key_plan: OpeningKeyPlan | None = None  # the bid's own opening key, dealt by the bidder (seal_dealt)

    def __post_init__(self) -> None:
        object.__setattr__(self, "envelopes", tuple(self.envelopes))
        if self.key_plan is not None and self.key_plan.public_key_b64 != self.opening_public_key_b64:
            raise DomainError(Reason.ENVELOPE_TAMPERED, "طرح کلید پیشنهاد با کلید عمومی آن نمی‌خواند")

    def key_plan_sha256(self) -> str | None:
        """SHA-256 (hex) of the key plan's canonical JSON, as the manifest states it; None without one."""
        if self.key_plan is None:
            return None
        return hashlib.sha256(self.key_plan.to_json().encode("utf-8")).hexdigest()

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple(e.letter for e in self.envelopes)

    def envelope(self, letter: str) -> SealedEnvelope:
        for env in self.envelopes:
            if env.letter == letter:
                return env
        raise DomainError(Reason.ENVELOPE_TAMPERED, f"پاکت {letter} در پیشنهاد ذخیره‌شده نیست",
                          letter=letter)

    def hashes(self) -> dict[str, str]:
        return {e.letter: e.sha256 for e in self.envelopes}

    def to_dict(self, *, ciphertexts: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"format": BID_FORMAT, "tender_id": self.tender_id, "bidder_id": self.bidder_id,
                               "opening_public_key": self.opening_public_key_b64,
                               "ephemeral_public_key": self.ephemeral_public_key_b64,
                               "envelopes": [e.to_dict(ciphertext=ciphertexts) for e in self.envelopes]}
        if self.key_plan is not None:
            out["key_plan"] = self.key_plan.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], ciphertexts: list[bytes] | None = None) -> SealedBid:
        """From to_dict() output; `ciphertexts` supplies them when the dict only gives lengths."""
        if not isinstance(data, Mapping) or data.get("format") != BID_FORMAT:
            raise DomainError(Reason.INVALID_INPUT, "قالب پیشنهاد مهروموم‌شده شناخته نیست")
        try:
            items = list(data["envelopes"])
            bodies = ([_unb64(e["ciphertext"]) for e in items] if ciphertexts is None
                      else list(ciphertexts))
            if len(bodies) != len(items):
                raise ValueError("ciphertext count differs from envelope count")
            envs = tuple(
                SealedEnvelope(letter=_str(e["letter"]), ciphertext=body, nonce=_unb64(e["nonce"]),
                               wrapped_key=_unb64(e["wrapped_key"]), sha256=_str(e["sha256"]))
                for e, body in zip(items, bodies))
            plan = data.get("key_plan")
            bid = cls(tender_id=_str(data["tender_id"]), bidder_id=_str(data["bidder_id"]),
                      opening_public_key_b64=_str(data["opening_public_key"]),
                      ephemeral_public_key_b64=_str(data["ephemeral_public_key"]), envelopes=envs,
                      key_plan=None if plan is None else OpeningKeyPlan.from_dict(plan))
        except (KeyError, TypeError, ValueError) as exc:
            raise DomainError(Reason.INVALID_INPUT, f"پیشنهاد مهروموم‌شده ناقص یا نامعتبر است: {exc}") from exc
        letters = bid.letters
        if not letters or len(set(letters)) != len(letters) or not set(letters) <= set(LETTERS):
            raise DomainError(Reason.INVALID_INPUT, f"حروف پاکت‌ها نامعتبر است: {letters}")
        return bid

    def to_json(self) -> str:
        """Self-contained JSON, binary fields in base64 (for JSON columns and exports)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> SealedBid:
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise DomainError(Reason.INVALID_INPUT, "پیشنهاد مهروموم‌شده JSON معتبر نیست") from exc
        return cls.from_dict(data)

    def to_bytes(self) -> bytes:
        """Compact blob: magic, length-prefixed JSON header (all but ciphertexts), raw ciphertexts.

        Base64 inside JSON costs a third more space and most of the time for megabyte envelopes.
        """
        head = json.dumps(self.to_dict(ciphertexts=False), ensure_ascii=False, sort_keys=True,
                          separators=(",", ":")).encode("utf-8")
        return b"".join((_BLOB_MAGIC, len(head).to_bytes(4, "big"), head,
                         *(e.ciphertext for e in self.envelopes)))

    @staticmethod
    def key_plan_from_bytes(blob: bytes) -> OpeningKeyPlan | None:
        """The key plan in a to_bytes() blob's header, without copying its ciphertexts (a member's
        parts of every bid are listed from the headers alone). `blob` may be the blob's first bytes
        only (BlobHeader.length_from_prefix tells how many hold the header). Raises: INVALID_INPUT."""
        view = memoryview(blob)
        start = len(_BLOB_MAGIC) + 4
        if bytes(view[:len(_BLOB_MAGIC)]) != _BLOB_MAGIC or len(view) < start:
            raise DomainError(Reason.INVALID_INPUT, "قالب پروندهٔ پیشنهاد مهروموم‌شده شناخته نیست")
        end = start + int.from_bytes(view[len(_BLOB_MAGIC):start], "big")
        try:
            plan = json.loads(bytes(view[start:end]).decode("utf-8")).get("key_plan")
        except (ValueError, UnicodeDecodeError, RecursionError, AttributeError) as exc:
            raise DomainError(Reason.INVALID_INPUT, f"سرآیند پیشنهاد مهروموم‌شده نامعتبر است: {exc}") from exc
        return None if plan is None else OpeningKeyPlan.from_dict(plan)

    @classmethod
    def from_bytes(cls, blob: bytes) -> SealedBid:
        blob = bytes(blob)
        head = BlobHeader.parse(blob)
        if head.length != len(blob):
            raise DomainError(Reason.INVALID_INPUT, "طول پروندهٔ پیشنهاد مهروموم‌شده با سرآیند آن نمی‌خواند")
        return cls.from_dict(head.header, [blob[offset:offset + length] for offset, length in head.spans])


@dataclass(frozen=True)
class BlobHeader:
    """The header of a to_bytes() blob, read from its first bytes: the JSON header (what to_dict gives
    without ciphertexts), where each envelope's ciphertext lies in the blob ((offset, length) in the
    header's order) and the blob's length they imply. Lets a reader fetch one envelope's ciphertext
    (a sitting opens A of every bid before any B) without loading the others."""

    header: dict[str, Any]
    spans: tuple[tuple[int, int], ...]
    length: int

    PREFIX = 16 * 1024  # leading bytes that hold the header of an ordinary bid (a few KB)

    @staticmethod
    def length_from_prefix(prefix: bytes) -> int:
        """How many leading bytes of the blob hold its magic, length and header (from at least its
        first len(magic) + 4 bytes). Raises: INVALID_INPUT (not a sealed-bid blob)."""
        start = len(_BLOB_MAGIC) + 4
        if not bytes(prefix[:len(_BLOB_MAGIC)]) == _BLOB_MAGIC or len(prefix) < start:
            raise DomainError(Reason.INVALID_INPUT, "قالب پروندهٔ پیشنهاد مهروموم‌شده شناخته نیست")
        return start + int.from_bytes(prefix[len(_BLOB_MAGIC):start], "big")

    @classmethod
    def parse(cls, prefix: bytes) -> BlobHeader:
        """From the blob's first bytes, at least length_from_prefix(prefix) of them (the whole blob will
        do). Raises: INVALID_INPUT (not a sealed-bid blob, a header cut short or malformed)."""
        offset = cls.length_from_prefix(prefix)
        start = len(_BLOB_MAGIC) + 4
        spans = []
        try:
            if offset > len(prefix):
                raise ValueError("header cut short")
            header = json.loads(bytes(prefix[start:offset]).decode("utf-8"))
            for env in header["envelopes"]:
                length = env["length"]
                if not isinstance(length, int) or isinstance(length, bool) or length < 0:
                    raise ValueError("bad ciphertext length")
                spans.append((offset, length))
                offset += length
        except (ValueError, UnicodeDecodeError, RecursionError, KeyError, TypeError) as exc:
            raise DomainError(Reason.INVALID_INPUT, f"پروندهٔ پیشنهاد مهروموم‌شده نامعتبر است: {exc}") from exc
        return cls(header, tuple(spans), offset)

    def span(self, letter: str) -> tuple[int, int] | None:
        """(offset, length) of envelope `letter`'s ciphertext in the blob; None when the bid has none."""
        for env, span in zip(self.header["envelopes"], self.spans):
            if env.get("letter") == letter:
                return span
        return None

    @cached_property
    def _checked(self) -> SealedBid:
        """The whole header checked as SealedBid.from_bytes checks it (ciphertexts left empty)."""
        items = self.header.get("envelopes") if isinstance(self.header, Mapping) else None
        return SealedBid.from_dict(self.header, [b"" for _ in items or ()])

    def sealed_bid(self, ciphertexts: Mapping[str, bytes]) -> SealedBid:
        """The sealed bid with only the envelopes of `ciphertexts` (letter -> ciphertext read from its
        span): enough to open those (open_envelope checks each against the signed hashes). The whole
        header is checked as SealedBid.from_bytes checks it (once per header).

        Raises: INVALID_INPUT (as SealedBid.from_dict)."""
        whole = self._checked
        return SealedBid(whole.tender_id, whole.bidder_id, whole.opening_public_key_b64,
                         whole.ephemeral_public_key_b64,
                         tuple(replace(e, ciphertext=ciphertexts[e.letter]) for e in whole.envelopes
                               if e.letter in ciphertexts), key_plan=whole.key_plan)


def bid_key_id(tender_id: str, bidder_id: str) -> str:
    """The id a bid's key plan carries (its `tender_id` field): tender and bidder, so a plan moved to
    another bid is seen at once."""
    return f"{tender_id}/{bidder_id}"


def seal_dealt(tender_id: str, bidder_id: str, envelopes: Mapping[str, bytes], voting: Mapping[str, Sequence[str]],
               security: Sequence[str], threshold: int | None, wrapper: KeyWrapper) -> SealedBid:
    """Deal the bid's own opening key among the commission's seats and seal `envelopes` to it: the
    bidder's tool is the dealer, so the means to open the bid never exists in one place before the
    session (issue 12; "Stations and trust").

    voting: voting seat -> member ids (member first, then alternates); security: the security
    representative and alternates; threshold: voting seats needed (Shamir); wrapper: wraps a share to
    a member id's certificate (public key only). Raises: INVALID_INPUT, QUORUM_NOT_MET,
    SECURITY_REP_ABSENT (seats), and seal_bid's reasons. Rule: R04, R08 (quorum enforced by the key)."""
    plan = create_opening_key(bid_key_id(tender_id, bidder_id), {r: list(ids) for r, ids in voting.items()},
                              list(security), wrapper, threshold)
    sealed = seal_bid(tender_id, bidder_id, envelopes, plan.public_key_b64)
    return SealedBid(sealed.tender_id, sealed.bidder_id, sealed.opening_public_key_b64,
                     sealed.ephemeral_public_key_b64, sealed.envelopes, key_plan=plan)


def seal_bid(tender_id: str, bidder_id: str, envelopes: Mapping[str, bytes],
             opening_public_key_b64: str) -> SealedBid:
    """Encrypt each envelope under its own key and wrap the keys to the opening key."""
    _check_id(tender_id, "شناسهٔ مناقصه")
    _check_id(bidder_id, "شناسهٔ پیشنهاددهنده")
    if not envelopes or not set(envelopes) <= set(LETTERS):
        raise DomainError(Reason.INVALID_INPUT, f"پاکت‌ها باید از میان {', '.join(LETTERS)} باشند: {sorted(envelopes)}")
    opening_pub = _public_key(opening_public_key_b64, Reason.INVALID_INPUT)
    ephemeral = X25519PrivateKey.generate()
    eph_pub = ephemeral.public_key()
    kek = AESGCM(_derive_kek(ephemeral.exchange(opening_pub), tender_id, bidder_id, eph_pub, opening_pub))
    del ephemeral  # only the opening key can rederive the KEK from here on

    sealed = []
    for letter in LETTERS:
        if letter not in envelopes:
            continue
        plaintext = envelopes[letter]
        if not isinstance(plaintext, (bytes, bytearray, memoryview)):
            raise DomainError(Reason.INVALID_INPUT, f"محتوای پاکت {letter} باید بایت باشد")
        key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(_NONCE_LEN)
        ciphertext = AESGCM(key).encrypt(nonce, bytes(plaintext), envelope_ad(tender_id, bidder_id, letter))
        key_nonce = os.urandom(_NONCE_LEN)
        wrapped = key_nonce + kek.encrypt(key_nonce, key, _key_ad(tender_id, bidder_id, letter))
        sealed.append(SealedEnvelope(letter, ciphertext, nonce, wrapped,
                                     hashlib.sha256(ciphertext).hexdigest()))
    return SealedBid(tender_id=tender_id, bidder_id=bidder_id,
                     opening_public_key_b64=_raw_b64(opening_pub),
                     ephemeral_public_key_b64=_raw_b64(eph_pub), envelopes=tuple(sealed))


def open_envelope(sealed_bid: SealedBid, letter: str, private_key: X25519PrivateKey,
                  expected_sha256: str, *, tender_id: str | None = None,
                  bidder_id: str | None = None, ciphertext_sha256: str | None = None) -> bytes:
    """Decrypt one envelope; touches no other envelope, so excluded bids' later ones stay sealed.

    `expected_sha256` comes from the receipt; `tender_id`/`bidder_id`, when given, are the ids
    the caller expects this blob to belong to. `ciphertext_sha256`: the SHA-256 (hex) of this very
    envelope's ciphertext when the caller has already computed it from the same bytes (the sitting
    checks them against the signed manifest and receipt first: services.tender.submission.
    signed_envelope_hash), so that a megabyte envelope is not hashed twice; computed here otherwise.
    It is compared with `expected_sha256` either way.
    """
    if letter not in LETTERS:
        raise DomainError(Reason.INVALID_INPUT, f"حرف پاکت نامعتبر است: «{letter}»")
    expected = str(expected_sha256).strip().lower()
    if not _HEX64.fullmatch(expected):
        raise DomainError(Reason.INVALID_INPUT, "چکیدهٔ رسید باید ۶۴ رقم هگز SHA-256 باشد")
    for given, stored, what in ((tender_id, sealed_bid.tender_id, "مناقصه"),
                                (bidder_id, sealed_bid.bidder_id, "پیشنهاددهنده")):
        if given is not None and given != stored:
            raise DomainError(Reason.ENVELOPE_TAMPERED, f"پیشنهاد ذخیره‌شده به {what} دیگری تعلق دارد", letter=letter)
    env = sealed_bid.envelope(letter)
    actual = ciphertext_sha256 if ciphertext_sha256 is not None else hashlib.sha256(env.ciphertext).hexdigest()
    if not hmac.compare_digest(actual, expected):
        raise DomainError(Reason.ENVELOPE_TAMPERED, f"چکیدهٔ پاکت {letter} با رسید مطابقت ندارد", letter=letter)

    opening_pub = private_key.public_key()
    if _raw_b64(opening_pub) != sealed_bid.opening_public_key_b64:
        raise DomainError(Reason.ENVELOPE_TAMPERED, "پاکت با کلید بازگشایی دیگری مهروموم شده است", letter=letter)
    eph_pub = _public_key(sealed_bid.ephemeral_public_key_b64, Reason.ENVELOPE_TAMPERED)
    try:
        shared = private_key.exchange(eph_pub)
    except ValueError as exc:
        raise DomainError(Reason.ENVELOPE_TAMPERED, "کلید موقت پیشنهاد نامعتبر است", letter=letter) from exc
    kek = AESGCM(_derive_kek(shared, sealed_bid.tender_id, sealed_bid.bidder_id, eph_pub, opening_pub))
    if len(env.wrapped_key) != _WRAPPED_LEN or len(env.nonce) != _NONCE_LEN:
        raise DomainError(Reason.ENVELOPE_TAMPERED, f"کلید پاکت {letter} طول نادرست دارد", letter=letter)
    try:
        key = kek.decrypt(env.wrapped_key[:_NONCE_LEN], env.wrapped_key[_NONCE_LEN:],
                          _key_ad(sealed_bid.tender_id, sealed_bid.bidder_id, letter))
        return AESGCM(key).decrypt(env.nonce, env.ciphertext,
                                   envelope_ad(sealed_bid.tender_id, sealed_bid.bidder_id, letter))
    except InvalidTag as exc:
        raise DomainError(Reason.ENVELOPE_TAMPERED, f"برچسب صحت پاکت {letter} نادرست است", letter=letter) from exc


def envelope_ad(tender_id: str, bidder_id: str, letter: str) -> bytes:
    """Associated data of an envelope's ciphertext; JSON keeps the fields unambiguous."""
    return _ad("eproc-envelope/1", tender_id, bidder_id, letter)


def manifest_xml(sealed_bid: SealedBid, submitted_at: datetime) -> etree._Element:
    """The submission manifest the bidder signs and the receipt restates (canonical, UTF-8)."""
    if not isinstance(submitted_at, datetime) or submitted_at.tzinfo is None:
        raise DomainError(Reason.INVALID_INPUT, "زمان ارسال باید با منطقهٔ زمانی باشد")
    utc = submitted_at.astimezone(timezone.utc)
    q = _manifest_tag
    root = etree.Element(q("BidManifest"), nsmap={None: MANIFEST_NS}, format="1")
    etree.SubElement(root, q("TenderId")).text = sealed_bid.tender_id
    etree.SubElement(root, q("BidderId")).text = sealed_bid.bidder_id
    when = etree.SubElement(root, q("SubmittedAt"), jalali=format_jalali_datetime(utc))
    when.text = utc.isoformat().replace("+00:00", "Z")
    etree.SubElement(root, q("OpeningPublicKey")).text = sealed_bid.opening_public_key_b64
    plan_sha = sealed_bid.key_plan_sha256()
    if plan_sha is not None:
        etree.SubElement(root, q("KeyPlan"), sha256=plan_sha)
    for env in sealed_bid.envelopes:
        etree.SubElement(root, q("Envelope"), letter=env.letter, size=str(env.size), sha256=env.sha256)
    return root


def _manifest_tag(tag: str) -> str:
    return f"{{{MANIFEST_NS}}}{tag}"


def manifest_hashes(manifest: etree._Element) -> dict[str, str]:
    """letter -> sha256 as stated by a (signed) manifest or receipt."""
    if manifest.tag != f"{{{MANIFEST_NS}}}BidManifest":
        raise DomainError(Reason.INVALID_INPUT, "سند، فهرست پیشنهاد نیست")
    out: dict[str, str] = {}
    for env in manifest.findall(f"{{{MANIFEST_NS}}}Envelope"):
        letter, digest = env.get("letter"), env.get("sha256")
        if letter not in LETTERS or letter in out or not digest or not _HEX64.fullmatch(digest):
            raise DomainError(Reason.INVALID_INPUT, f"پاکت نامعتبر در فهرست پیشنهاد: {letter}")
        out[letter] = digest
    return out


def check_manifest(sealed_bid: SealedBid, manifest: etree._Element) -> None:
    """The stored blob is the one the manifest describes (ids, opening key, key plan, letters, sizes,
    hashes). Raises: ENVELOPE_TAMPERED, INVALID_INPUT."""
    manifest_hashes(manifest)
    ns = f"{{{MANIFEST_NS}}}"
    stated = {
        "tender": manifest.findtext(f"{ns}TenderId"),
        "bidder": manifest.findtext(f"{ns}BidderId"),
        "key": manifest.findtext(f"{ns}OpeningPublicKey"),
        "key_plan": next((e.get("sha256") for e in manifest.findall(f"{ns}KeyPlan")), None),
        "envelopes": {e.get("letter"): (e.get("size"), e.get("sha256"))
                      for e in manifest.findall(f"{ns}Envelope")},
    }
    actual = {
        "tender": sealed_bid.tender_id, "bidder": sealed_bid.bidder_id,
        "key": sealed_bid.opening_public_key_b64, "key_plan": sealed_bid.key_plan_sha256(),
        "envelopes": {e.letter: (str(e.size), hashlib.sha256(e.ciphertext).hexdigest())
                      for e in sealed_bid.envelopes},
    }
    for part in stated:
        if stated[part] != actual[part]:
            raise DomainError(Reason.ENVELOPE_TAMPERED, f"پیشنهاد ذخیره‌شده با فهرست امضاشده نمی‌خواند ({part})")


def _derive_kek(shared: bytes, tender_id: str, bidder_id: str,
                eph_pub: X25519PublicKey, opening_pub: X25519PublicKey) -> bytes:
    info = (_ad("eproc-envelope-kek/1", tender_id, bidder_id)
            + eph_pub.public_bytes(Encoding.Raw, PublicFormat.Raw)
            + opening_pub.public_bytes(Encoding.Raw, PublicFormat.Raw))
    return HKDF(algorithm=hashes.SHA256(), length=_KEY_LEN, salt=None, info=info).derive(shared)


def _key_ad(tender_id: str, bidder_id: str, letter: str) -> bytes:
    return _ad("eproc-envelope-key/1", tender_id, bidder_id, letter)


def _ad(*parts: str) -> bytes:
    return json.dumps(list(parts), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _public_key(value: str, reason: Reason) -> X25519PublicKey:
    try:
        return X25519PublicKey.from_public_bytes(base64.b64decode(value, validate=True))
    except (ValueError, TypeError) as exc:
        raise DomainError(reason, "کلید عمومی X25519 نامعتبر است") from exc


def _raw_b64(key: X25519PublicKey) -> str:
    return _b64(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


# Characters XML 1.0 cannot carry: the ids go into the signed manifest.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _check_id(value: str, what: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise DomainError(Reason.INVALID_INPUT, f"{what} خالی است")
    if _NOT_XML.search(value):
        raise DomainError(Reason.INVALID_INPUT, f"{what} نویسهٔ کنترلی دارد")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: object) -> bytes:
    if not isinstance(value, str):
        raise TypeError("base64 field is not a string")
    return base64.b64decode(value, validate=True)


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value
