"""The Article 13 commission's session: who takes part, quorum, and who signs the minutes."""
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
    participants: tuple[Member, ...]
    covered_roles: frozenset[Role]

    @property
    def signers(self) -> tuple[str, ...]:
        """Every member taking part signs the minutes (tender-rules.md, R10)."""
        return tuple(m.id for m in self.participants)


def _seat(member: Member, by_id: dict[str, Member]) -> Role:
    # An alternate sits in the seat of the member it stands in for.
    if member.alternate_for is not None:
        return by_id[member.alternate_for].role
    return member.role


def session_participants(members: Sequence[Member], present: Iterable[str],
                         invalid_certificates: Iterable[str] = ()) -> Session:
    """Members present with a valid certificate take part; raises QUORUM_NOT_MET if a voting
    seat has neither its member nor an alternate, SECURITY_REP_ABSENT without حراست."""
    by_id = {m.id: m for m in members}
    if len(by_id) != len(members):
        raise DomainError(Reason.INVALID_INPUT, "شناسهٔ تکراری در اعضای کمیسیون")
    for m in members:
        if m.alternate_for is not None and m.alternate_for not in by_id:
            raise DomainError(Reason.INVALID_INPUT, f"{m.id} جانشین عضو ناشناختهٔ {m.alternate_for} است")
    present, invalid = set(present), set(invalid_certificates)
    participants = tuple(m for m in members if m.id in present and m.id not in invalid)
    covered = frozenset(_seat(m, by_id) for m in participants)
    missing = [r.value for r in VOTING_ROLES if r not in covered]
    if missing:
        raise DomainError(Reason.QUORUM_NOT_MET, "، ".join(missing), missing_roles=",".join(missing))
    if Role.SECURITY not in covered:
        raise DomainError(Reason.SECURITY_REP_ABSENT)
    return Session(participants, covered)


def minutes_signers(members: Sequence[Member], present: Iterable[str],
                    invalid_certificates: Iterable[str] = ()) -> tuple[str, ...]:
    return session_participants(members, present, invalid_certificates).signers
