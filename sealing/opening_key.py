"""An opening key: an X25519 key pair whose private half exists only as commission shares.

Since issue 12 each bid has its own, dealt by the bidder's tool (sealing.envelopes.seal_dealt) to the
seats the signed notice names (`OpeningSeats`); the engine only checks that a bid's plan follows them.

Access structure: the security representative AND `threshold` of the voting roles (chair,
finance, technical), each role's share usable by its member or a named alternate.

    K       = the 32 private-key bytes
    S_sec   = 32 random bytes, wrapped to every security member
    K_vote  = K xor S_sec, Shamir-shared (pycryptodome, 16-byte halves) among the voting roles

Every secret is wrapped to the token-held public key of each person who may use it, through a
`KeyWrapper` (the signing package implements it with PKCS#11 tokens). K itself is never stored:
Python cannot guarantee memory wiping, so we only drop every reference to it as soon as it is split.
"""
from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations, product
from typing import Any, Protocol

from Crypto.Protocol.SecretSharing import Shamir
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from domain.reasons import DomainError, Reason

PLAN_FORMAT = "eproc-opening-key/1"
SECURITY_ROLE = "security"
KEY_LEN = 32
_HALF = 16
_MAX_SHAMIR_SHARES = 255  # GF(2^128) Shamir in pycryptodome indexes shares with one byte


class KeyWrapper(Protocol):
    """Encrypts a secret to the token-held public key of one person."""

    def wrap(self, recipient_id: str, secret: bytes) -> dict: ...


class ShareUnwrapper(Protocol):
    """Decrypts, on that person's token, a secret wrapped to them."""

    def unwrap(self, recipient_id: str, wrapped: dict) -> bytes: ...


@dataclass(frozen=True)
class EncryptedShare:
    role: str                # a voting role, or "security"
    recipient_id: str        # the member or alternate whose token can unwrap it
    share_index: int         # Shamir x-coordinate; 0 for the security share
    wrapped: dict = field(hash=False)

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "recipient_id": self.recipient_id,
                "share_index": self.share_index, "wrapped": json.loads(json.dumps(self.wrapped))}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EncryptedShare:
        try:
            role, rid, index, wrapped = (data["role"], data["recipient_id"],
                                         data["share_index"], data["wrapped"])
        except (KeyError, TypeError) as exc:
            raise DomainError(Reason.INVALID_INPUT, f"سهم رمزشده ناقص است: {exc}") from exc
        if not (isinstance(role, str) and isinstance(rid, str) and isinstance(wrapped, dict)
                and isinstance(index, int) and not isinstance(index, bool)):
            raise DomainError(Reason.INVALID_INPUT, "نوع داده‌های سهم رمزشده نادرست است")
        return cls(role=role, recipient_id=rid, share_index=index, wrapped=wrapped)


@dataclass(frozen=True)
class OpeningKeyPlan:
    tender_id: str
    public_key_b64: str
    threshold: int
    voting_roles: tuple[str, ...]
    shares: tuple[EncryptedShare, ...]

    def __post_init__(self) -> None:
        # Accept lists from callers but keep the plan immutable.
        object.__setattr__(self, "voting_roles", tuple(self.voting_roles))
        object.__setattr__(self, "shares", tuple(self.shares))
        roles = self.voting_roles
        if len(set(roles)) != len(roles) or not 1 <= self.threshold <= len(roles):
            raise DomainError(Reason.INVALID_INPUT, "نقش‌ها یا حد نصاب طرح کلید بازگشایی ناسازگار است")
        if len({s.recipient_id for s in self.shares}) != len(self.shares):
            raise DomainError(Reason.INVALID_INPUT, "یک نفر بیش از یک سهم در طرح کلید بازگشایی دارد")

    def public_key(self) -> X25519PublicKey:
        return public_key_from_b64(self.public_key_b64)

    @property
    def security_members(self) -> tuple[str, ...]:
        return tuple(s.recipient_id for s in self.shares if s.role == SECURITY_ROLE)

    def members_by_role(self) -> dict[str, tuple[str, ...]]:
        """role -> recipients able to contribute it (member first, then alternates)."""
        out: dict[str, list[str]] = {r: [] for r in (*self.voting_roles, SECURITY_ROLE)}
        for share in self.shares:
            out.setdefault(share.role, []).append(share.recipient_id)
        return {role: tuple(ids) for role, ids in out.items()}

    def share_for(self, recipient_id: str) -> EncryptedShare:
        for share in self.shares:
            if share.recipient_id == recipient_id:
                return share
        raise DomainError(Reason.INVALID_INPUT, f"«{recipient_id}» در طرح کلید بازگشایی این مناقصه سهمی ندارد")

    def to_dict(self) -> dict[str, Any]:
        return {"format": PLAN_FORMAT, "tender_id": self.tender_id,
                "public_key_b64": self.public_key_b64, "threshold": self.threshold,
                "voting_roles": list(self.voting_roles),
                "shares": [s.to_dict() for s in self.shares]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OpeningKeyPlan:
        if not isinstance(data, Mapping) or data.get("format") != PLAN_FORMAT:
            raise DomainError(Reason.INVALID_INPUT, "قالب طرح کلید بازگشایی شناخته نیست")
        try:
            tender_id, pub, threshold = data["tender_id"], data["public_key_b64"], data["threshold"]
            roles, shares = data["voting_roles"], data["shares"]
        except KeyError as exc:
            raise DomainError(Reason.INVALID_INPUT, f"طرح کلید بازگشایی ناقص است: {exc}") from exc
        if not (isinstance(tender_id, str) and isinstance(pub, str) and isinstance(roles, list)
                and all(isinstance(r, str) for r in roles) and isinstance(shares, list)
                and isinstance(threshold, int) and not isinstance(threshold, bool)):
            raise DomainError(Reason.INVALID_INPUT, "نوع داده‌های طرح کلید بازگشایی نادرست است")
        public_key_from_b64(pub)
        return cls(tender_id=tender_id, public_key_b64=pub, threshold=threshold,
                   voting_roles=tuple(roles), shares=tuple(EncryptedShare.from_dict(s) for s in shares))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> OpeningKeyPlan:
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise DomainError(Reason.INVALID_INPUT, "طرح کلید بازگشایی JSON معتبر نیست") from exc
        return cls.from_dict(data)


SEATS_FORMAT = "eproc-opening-seats/1"


@dataclass(frozen=True)
class OpeningSeats:
    """Who holds a part of every bid's opening key in a tender (the access structure, no key): the
    voting seats (role -> member ids, member first then alternates), the security representative and
    alternates, and how many voting seats rebuild a key. Stated in the signed notice; every bid's
    key plan must follow it."""

    tender_id: str
    threshold: int
    voting: dict[str, tuple[str, ...]]
    security: tuple[str, ...]
    # member id -> (certificate DER in base64, RSA-OAEP variant its token decrypts): what parts are wrapped to
    certificates: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "voting", {str(r): tuple(ids) for r, ids in dict(self.voting).items()})
        object.__setattr__(self, "security", tuple(self.security))
        object.__setattr__(self, "certificates", {str(k): (str(v[0]), str(v[1]))
                                                  for k, v in dict(self.certificates).items()})
        _check_roles(self.tender_id, {r: list(ids) for r, ids in self.voting.items()}, list(self.security))
        if self.certificates and set(self.certificates) != set(self.holders):
            raise DomainError(Reason.INVALID_INPUT, "گواهی همهٔ دارندگان صندلی‌های کلید بازگشایی (و فقط آنان) لازم است")
        if not isinstance(self.threshold, int) or isinstance(self.threshold, bool) \
                or not 1 <= self.threshold <= len(self.voting):
            raise DomainError(Reason.INVALID_INPUT, f"حد نصاب صندلی‌های کلید بازگشایی نامعتبر است: {self.threshold!r}")

    @property
    def holders(self) -> tuple[str, ...]:
        """Every member id holding a part (voting seats in order, then security)."""
        return tuple(rid for ids in self.voting.values() for rid in ids) + self.security

    def check_plan(self, plan: OpeningKeyPlan, key_id: str) -> None:
        """A bid's key plan follows these seats: its id is `key_id`, same threshold, same voting roles
        in order, and each seat's shares wrapped to exactly its members.

        Raises: INVALID_INPUT naming what differs. Rule: R04, R08 (the quorum the notice states)."""
        wanted = {**{r: set(ids) for r, ids in self.voting.items()}, SECURITY_ROLE: set(self.security)}
        actual = {r: set(ids) for r, ids in plan.members_by_role().items()}
        problems = []
        if plan.tender_id != key_id:
            problems.append("شناسه")
        if plan.threshold != self.threshold:
            problems.append("حد نصاب")
        if tuple(plan.voting_roles) != tuple(self.voting):
            problems.append("نقش‌های رأی‌دهنده")
        if actual != wanted:
            problems.append("دارندگان سهم‌ها")
        if problems:
            raise DomainError(Reason.INVALID_INPUT, "طرح کلید پیشنهاد با صندلی‌های آگهی نمی‌خواند: " + "، ".join(problems))

    def check_released(self, released: Iterable[str]) -> None:
        """Enough seats released their parts to open the bids: the security part AND `threshold` voting
        seats (a seat counts when its member or an alternate released).

        Raises: SECURITY_REP_ABSENT, then QUORUM_NOT_MET. Rule: R04, R08 (art. 18-19)."""
        done = set(released)
        if not done & set(self.security):
            raise DomainError(Reason.SECURITY_REP_ABSENT, "نمایندهٔ حراست یا جانشین او سهم خود را آزاد نکرده است")
        seated = [r for r, ids in self.voting.items() if done & set(ids)]
        if len(seated) < self.threshold:
            missing = [r for r in self.voting if r not in seated]
            raise DomainError(Reason.QUORUM_NOT_MET, f"{len(seated)} صندلی از {self.threshold} صندلی لازم سهم خود را "
                                                     f"آزاد کرده است؛ بی سهم: {', '.join(missing)}")

    def to_dict(self) -> dict[str, Any]:
        return {"format": SEATS_FORMAT, "tender_id": self.tender_id, "threshold": self.threshold,
                "voting": {r: list(ids) for r, ids in self.voting.items()}, "security": list(self.security),
                "certificates": {k: list(v) for k, v in self.certificates.items()}}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> OpeningSeats:
        """Raises: INVALID_INPUT (not this format, or inconsistent)."""
        try:
            data = json.loads(text)
            if data.get("format") != SEATS_FORMAT:
                raise ValueError("format")
            voting = data["voting"]
            if not isinstance(voting, dict):
                raise ValueError("voting")
            certs = data.get("certificates", {})
            if not isinstance(certs, dict):
                raise ValueError("certificates")
            return cls(str(data["tender_id"]), data["threshold"], {str(r): tuple(ids) for r, ids in voting.items()},
                       tuple(data["security"]), {str(k): (v[0], v[1]) for k, v in certs.items()})
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
            raise DomainError(Reason.INVALID_INPUT, f"صندلی‌های کلید بازگشایی خوانا نیست: {exc}") from None


def public_key_from_b64(value: str) -> X25519PublicKey:
    try:
        raw = base64.b64decode(value, validate=True)
        return X25519PublicKey.from_public_bytes(raw)
    except (ValueError, TypeError) as exc:
        raise DomainError(Reason.INVALID_INPUT, "کلید عمومی بازگشایی نامعتبر است") from exc


def public_key_b64(key: X25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


def create_opening_key(tender_id: str, voting_roles: Mapping[str, list[str]],
                       security_members: list[str], wrapper: KeyWrapper,
                       threshold: int | None = None) -> OpeningKeyPlan:
    """New X25519 key pair for the tender; returns the plan (public key + wrapped shares) only."""
    roles = _check_roles(tender_id, voting_roles, security_members)
    n = len(roles)
    k = n if threshold is None else threshold
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= n:
        raise DomainError(Reason.INVALID_INPUT, f"حد نصاب باید عددی بین ۱ و {n} باشد: {threshold!r}")

    private = X25519PrivateKey.generate()
    pub_b64 = public_key_b64(private.public_key())
    key = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    del private
    s_sec = secrets.token_bytes(KEY_LEN)
    k_vote = _xor(key, s_sec)
    del key
    low = Shamir.split(k, n, k_vote[:_HALF])
    high = Shamir.split(k, n, k_vote[_HALF:])
    del k_vote

    shares: list[EncryptedShare] = []
    # Both halves are split with the same x-coordinates 1..n, so one index serves the role.
    for (index, lo), (_, hi), role in zip(low, high, roles, strict=True):
        for rid in voting_roles[role]:
            shares.append(EncryptedShare(role, rid, index, _wrap(wrapper, rid, lo + hi)))
    for rid in security_members:
        shares.append(EncryptedShare(SECURITY_ROLE, rid, 0, _wrap(wrapper, rid, s_sec)))
    return OpeningKeyPlan(tender_id=tender_id, public_key_b64=pub_b64, threshold=k,
                          voting_roles=tuple(roles), shares=tuple(shares))


def unlock_shares(plan: OpeningKeyPlan, unwrapper: ShareUnwrapper,
                  recipient_ids: Iterable[str]) -> dict[str, bytes]:
    """Unwrap, on their tokens, the shares of the people present; the result feeds rebuild_private_key."""
    out: dict[str, bytes] = {}
    for rid in recipient_ids:
        share = plan.share_for(rid)
        out[rid] = bytes(unwrapper.unwrap(rid, share.wrapped))
    return out


def rebuild_private_key(plan: OpeningKeyPlan, unlocked: Mapping[str, bytes]) -> X25519PrivateKey:
    """The private key from unwrapped shares (recipient id -> secret), checked against the public key."""
    by_recipient = {s.recipient_id: s for s in plan.shares}
    security: list[bytes] = []
    voting: dict[str, list[tuple[int, bytes]]] = {}
    malformed: list[str] = []
    for rid, secret in unlocked.items():
        share = by_recipient.get(rid)
        if share is None:
            raise DomainError(Reason.INVALID_INPUT, f"«{rid}» در طرح کلید بازگشایی این مناقصه سهمی ندارد")
        secret = bytes(secret)
        if len(secret) != KEY_LEN:
            malformed.append(rid)
            continue
        if share.role == SECURITY_ROLE:
            if secret not in security:
                security.append(secret)
        elif share.role in plan.voting_roles:
            candidates = voting.setdefault(share.role, [])
            if (share.share_index, secret) not in candidates:
                candidates.append((share.share_index, secret))

    bad_note = f" (سهم با طول نادرست: {', '.join(malformed)})" if malformed else ""
    if not security:
        raise DomainError(Reason.SECURITY_REP_ABSENT, "سهم حراست ارائه نشده یا معیوب است" + bad_note)
    present = [r for r in plan.voting_roles if voting.get(r)]
    if len(present) < plan.threshold:
        missing = [r for r in plan.voting_roles if r not in present]
        raise DomainError(Reason.QUORUM_NOT_MET,
                          f"{len(present)} نقش از {plan.threshold} نقش لازم حاضر است؛ بدون سهم: "
                          f"{', '.join(missing)}{bad_note}",
                          present=",".join(present), missing=",".join(missing))

    expected = plan.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    # A bad share (wrong token, edited record) must not yield a silently wrong key: try each quorum
    # the present people can form and accept only one that reproduces the published public key.
    for roles in combinations(present, plan.threshold):
        for picks in product(*(voting[r] for r in roles)):
            k_vote = _combine(list(picks))
            for s_sec in security:
                candidate = X25519PrivateKey.from_private_bytes(_xor(k_vote, s_sec))
                if candidate.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw) == expected:
                    return candidate
    raise DomainError(Reason.QUORUM_NOT_MET,
                      "سهم‌های ارائه‌شده کلید منتشرشده را بازسازی نمی‌کنند؛ دست‌کم یک سهم نادرست است" + bad_note)


def _combine(picks: list[tuple[int, bytes]]) -> bytes:
    low = Shamir.combine([(i, s[:_HALF]) for i, s in picks])
    high = Shamir.combine([(i, s[_HALF:]) for i, s in picks])
    return low + high


def _check_roles(tender_id: str, voting_roles: Mapping[str, list[str]],
                 security_members: list[str]) -> list[str]:
    if not isinstance(tender_id, str) or not tender_id:
        raise DomainError(Reason.INVALID_INPUT, "شناسهٔ مناقصه خالی است")
    roles = list(voting_roles)
    if not roles:
        raise DomainError(Reason.QUORUM_NOT_MET, "هیچ نقش رأی‌دهنده‌ای تعریف نشده است")
    if len(roles) > _MAX_SHAMIR_SHARES:
        raise DomainError(Reason.INVALID_INPUT, "تعداد نقش‌های رأی‌دهنده بیش از حد است")
    if not security_members:
        raise DomainError(Reason.SECURITY_REP_ABSENT, "نمایندهٔ حراست یا جانشین او تعیین نشده است")
    for role in roles:
        if not isinstance(role, str) or not role or role == SECURITY_ROLE:
            raise DomainError(Reason.INVALID_INPUT, f"نام نقش رأی‌دهنده نامعتبر است: «{role}»")
    seen: set[str] = set()
    groups = [(role, voting_roles[role]) for role in roles] + [(SECURITY_ROLE, security_members)]
    for role, members in groups:
        if not members:
            raise DomainError(Reason.QUORUM_NOT_MET, f"برای نقش «{role}» نه عضو و نه جانشین تعیین شده است")
        for rid in members:
            if not isinstance(rid, str) or not rid:
                raise DomainError(Reason.INVALID_INPUT, f"شناسهٔ عضو نقش «{role}» نامعتبر است")
            # One person holding two shares would let them stand in for two roles.
            if rid in seen:
                raise DomainError(Reason.INVALID_INPUT, f"«{rid}» بیش از یک بار در کمیسیون آمده است")
            seen.add(rid)
    return roles


def _wrap(wrapper: KeyWrapper, recipient_id: str, secret: bytes) -> dict:
    wrapped = wrapper.wrap(recipient_id, secret)
    if not isinstance(wrapped, dict):
        raise DomainError(Reason.INVALID_INPUT, f"بسته‌بندی سهم «{recipient_id}» شیء JSON نیست")
    return wrapped


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))
