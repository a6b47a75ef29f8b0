"""The Article 13 commission (tender-rules.md "Commission"): its seats, who takes part in a session,
quorum, and who holds a part of the opening key.

One home for the seats: a member sits in its own role's seat, an alternate in the seat of the member
it stands in for (Tender Law art. 5). Both the opening-key plan at announcement (`opening_key_seats`)
and the session (`session_participants`) count seats through `_seat`.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from domain.reasons import DomainError, Reason


class Role(str, Enum):
    CHAIR = "chair"
    FINANCE = "finance"
    TECHNICAL = "technical"
    LEGAL = "legal"
    SECURITY = "security"


VOTING_ROLES: tuple[Role, ...] = (Role.CHAIR, Role.FINANCE, Role.TECHNICAL)
# The policy's [defaults].quorum values (config/policy/default.toml); the choice itself lives there.
QUORUM_ALL_VOTING = "all_voting"
QUORUM_MAJORITY = "majority"


@dataclass(frozen=True)
class Member:
    id: str
    role: Role
    national_id: str
    alternate_for: str | None = None
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", Role(self.role))


@dataclass(frozen=True)
class Session:
    """Who takes part in a sitting (in commission order) and the seats they cover; every participant
    signs the minutes (R10)."""

    participants: tuple[Member, ...]
    covered_roles: frozenset[Role]


@dataclass(frozen=True)
class KeySeats:
    """Who receives a part of a tender's opening key.

    voting: voting role value -> ids of the members and alternates of that seat, in commission order;
    security: ids of the security representatives (and their alternates); threshold: how many voting
    seats rebuild the key (Shamir), None for all of them."""

    voting: dict[str, list[str]]
    security: list[str]
    threshold: int | None


def _index(members: Sequence[Member]) -> dict[str, Member]:
    by_id = {m.id: m for m in members}
    if len(by_id) != len(members):
        raise DomainError(Reason.INVALID_INPUT, "شناسهٔ تکراری در اعضای کمیسیون")
    for m in members:
        if m.alternate_for is not None and m.alternate_for not in by_id:
            raise DomainError(Reason.INVALID_INPUT, f"{m.id} جانشین عضو ناشناختهٔ {m.alternate_for} است")
    return by_id


def _seat(member: Member, by_id: dict[str, Member]) -> Role:
    # An alternate sits in the seat of the member it stands in for.
    if member.alternate_for is not None:
        return by_id[member.alternate_for].role
    return member.role


def shamir_threshold(quorum: str) -> int | None:
    """How many voting seats rebuild the opening key under the policy's quorum setting.

    quorum: `all_voting` (every seat: None) or `majority` (more than half of the voting seats).
    Raises: POLICY_INVALID for any other value. Rule: R04, R08; tender-rules.md "Commission" (quorum,
    **default** all voting members)."""
    if quorum == QUORUM_ALL_VOTING:
        return None
    if quorum == QUORUM_MAJORITY:
        return len(VOTING_ROLES) // 2 + 1
    raise DomainError(Reason.POLICY_INVALID, f"حد نصاب ناشناخته: «{quorum}»")


def opening_key_seats(members: Sequence[Member], certified: Iterable[str], quorum: str) -> KeySeats:
    """The seats of the opening key at announcement: only members (and alternates) holding a valid
    certificate now receive a part; others get none and readiness reports them.

    members: the tender's commission; certified: ids of the members with a valid certificate;
    quorum: the policy's [defaults].quorum.
    Raises: INVALID_INPUT (duplicate id, alternate of an unknown member), POLICY_INVALID (quorum),
    SECURITY_REP_ABSENT (no certified security representative), then QUORUM_NOT_MET (a voting seat
    with no certified member or alternate).
    Rule: R04, R05, R08; tender-rules.md "Commission" and "Opening" (quorum enforced cryptographically)."""
    by_id = _index(members)
    threshold = shamir_threshold(quorum)
    ready = set(certified)
    voting: dict[str, list[str]] = {r.value: [] for r in VOTING_ROLES}
    security: list[str] = []
    for mem in members:
        if mem.id not in ready:
            continue
        seat = _seat(mem, by_id)
        if seat.value in voting:
            voting[seat.value].append(mem.id)
        elif seat is Role.SECURITY:
            security.append(mem.id)
    if not security:
        raise DomainError(Reason.SECURITY_REP_ABSENT, "نمایندهٔ حراست گواهی معتبر روی توکن ندارد")
    empty = [r for r, ids in voting.items() if not ids]
    if empty:
        raise DomainError(Reason.QUORUM_NOT_MET, "برای این سمت‌ها عضو دارای گواهی معتبر نیست: " + "، ".join(empty))
    return KeySeats(voting, security, threshold)


def session_participants(members: Sequence[Member], present: Iterable[str],
                         invalid_certificates: Iterable[str] = ()) -> Session:
    """Members present with a valid certificate (and holding their role) take part; they are the
    ones who contribute key parts and sign the minutes.

    present: ids of the members present; invalid_certificates: ids whose certificate is revoked,
    expired or missing, or who do not hold their role, at the session.
    Raises: INVALID_INPUT (duplicate id, alternate of an unknown member), QUORUM_NOT_MET (a voting seat
    with neither its member nor an alternate; detail and `missing_roles` name them), then
    SECURITY_REP_ABSENT (no حراست representative).
    Rule: R04, R05, R10; tender-rules.md "Commission"."""
    by_id = _index(members)
    present, invalid = set(present), set(invalid_certificates)
    participants = tuple(m for m in members if m.id in present and m.id not in invalid)
    covered = frozenset(_seat(m, by_id) for m in participants)
    missing = [r.value for r in VOTING_ROLES if r not in covered]
    if missing:
        raise DomainError(Reason.QUORUM_NOT_MET, "، ".join(missing), missing_roles=",".join(missing))
    if Role.SECURITY not in covered:
        raise DomainError(Reason.SECURITY_REP_ABSENT)
    return Session(participants, covered)
