"""The blacklist of contractors in breach (R25): who is on it on a given day.

An entry of the contractor registry's blacklist (integrations.contractor_registry.BlacklistEntry, or
anything with the same four attributes) holds a company from its start date to its end date, both
inclusive; an entry without an end date holds until it is lifted. A contractor on the list on a day
may not submit, be awarded or be paid that day (tender-rules.md, reason-codes.md BLACKLISTED).
Dates are calendar dates in Tehran (the caller turns its aware UTC time into Tehran's date).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Protocol, TypeVar

from domain.persian import clean_identifier
from domain.reasons import DomainError, Reason


class BlacklistSpan(Protocol):
    """What the rule reads of a registry entry: the company's national ID and the entry's dates."""

    @property
    def company_id(self) -> str: ...

    @property
    def start_date(self) -> date: ...

    @property
    def end_date(self) -> date | None: ...

    @property
    def reason(self) -> str: ...


_Entry = TypeVar("_Entry", bound=BlacklistSpan)


def in_force_on(entry: BlacklistSpan, on: date) -> bool:
    """The entry holds on `on`: start_date <= on <= end_date (no end date: until lifted).

    Raises: nothing. Rule: R25."""
    return entry.start_date <= on and (entry.end_date is None or on <= entry.end_date)


def blacklisting(entries: Iterable[_Entry], company_id: str, on: date) -> _Entry | None:
    """The first entry (in the given order) that holds `company_id` on the list on `on`, or None.
    National IDs are compared as the registry keeps them (Latin digits, no separators).

    Raises: nothing. Rule: R25."""
    key = clean_identifier(str(company_id or ""))
    return next((e for e in entries if clean_identifier(e.company_id) == key and in_force_on(e, on)), None)


def check_not_blacklisted(entries: Iterable[BlacklistSpan], company_id: str, on: date, subject: str = "") -> None:
    """A contractor on the blacklist on `on` is refused.

    subject: what is refused, for the detail text only (e.g. "پرداخت p1", "انعقاد قرارداد").
    Raises: BLACKLISTED (the detail names the entry's start date and reason). Rule: R25
    (consulted at submission, award and payment; issue 13 part 5)."""
    entry = blacklisting(entries, company_id, on)
    if entry is not None:
        about = f" ({subject})" if subject else ""
        until = entry.end_date.isoformat() if entry.end_date is not None else "رفع محرومیت"
        raise DomainError(Reason.BLACKLISTED,
                          f"پیمانکار {company_id} از {entry.start_date.isoformat()} تا {until} در فهرست سیاه است: "
                          f"{entry.reason}{about}")
