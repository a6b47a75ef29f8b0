"""The contractor registry (R21, R25): companies, qualification decisions, the blacklist.

Names and identifiers shown on the transparency site come from here, never typed by hand.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, Protocol

from domain.contract.blacklist import in_force_on

Decision = Literal["qualified", "rejected"]

MIN_GRADE, MAX_GRADE = 1, 5  # contractor grades (رتبه) of the national classification


@dataclass(frozen=True)
class Company:
    national_id: str  # 11-digit company national ID (شناسه ملی)
    name: str
    economic_code: str
    grade: int
    ceo_national_id: str
    ceo_name: str


@dataclass(frozen=True)
class QualificationDecision:
    company_id: str
    work_field: str
    decision: Decision
    reason: str
    decided_on: date
    decided_by: str


@dataclass(frozen=True)
class BlacklistEntry:
    company_id: str
    start_date: date
    end_date: date | None  # None: until lifted
    reason: str
    reference: str  # the ruling or letter that put it there

    def active_on(self, on_date: date) -> bool:
        return in_force_on(self, on_date)  # the rule's one home (R25)


@dataclass(frozen=True)
class Contacts:
    """Where a registered company is told what concerns it (R26): the mobile of its SMS
    (09xxxxxxxxx) and an e-mail for the portal, either may be None but not both."""

    company_id: str
    mobile: str | None
    email: str | None


class ContractorRegistry(Protocol):
    def register_company(self, company: Company) -> Company:
        ...

    def company(self, national_id: str) -> Company | None:
        ...

    def record_qualification(self, decision: QualificationDecision) -> QualificationDecision:
        ...

    def qualification(self, national_id: str, work_field: str | None = None) -> list[QualificationDecision]:
        ...

    def add_to_blacklist(self, entry: BlacklistEntry) -> BlacklistEntry:
        ...

    def blacklist(self, on_date: date | None = None) -> list[BlacklistEntry]:
        """The entries in force on `on_date` (every entry when None), oldest first."""
        ...

    def is_blacklisted(self, national_id: str, on_date: date) -> bool:
        ...

    def published_lists(self, on_date: date) -> dict[str, Any]:
        ...

    def record_contacts(self, contacts: Contacts) -> Contacts:
        ...

    def contacts(self, national_id: str) -> Contacts | None:
        ...
