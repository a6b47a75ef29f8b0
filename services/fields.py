"""Validation pieces shared by the files people write and the engine reads (the pilot's scenario file,
pilot.scenario; the tender file, services.tender.files): pydantic before-validators that run the edge
parsers of domain/ and report their refusal in Persian under the key, the normalisation of every text
of a file, and the order of a tender's times.

Pure validation: no I/O. pilot/ imports this module; it imports nothing above services/.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, ValidationInfo
from pydantic_core import PydanticCustomError

from domain import persian
from domain.reasons import DomainError, Reason
from domain.validation_fa import OWN

__all__ = ["CommissionMemberKeys", "FileTable", "check_times_order", "day", "edge", "normalize_all", "refusal", "text",
           "when"]


def refusal(exc: DomainError) -> PydanticCustomError:
    """The pydantic error (type domain.validation_fa.OWN) reporting `exc` under its key: the Persian
    detail of an INVALID_INPUT refusal, else the reason's Persian message. Raises: nothing."""
    return PydanticCustomError(OWN, exc.detail if exc.reason is Reason.INVALID_INPUT and exc.detail else exc.message_fa)


def edge(parse: Callable[[Any, str | None], Any], *, each: bool = True) -> Any:
    """A before-validator (a classmethod for pydantic.field_validator) calling `parse(value, field_name)`,
    on each item of a list value when `each`; None passes as it is.

    Raises (as a pydantic error, see `refusal`): the DomainError `parse` raises."""
    def wrapped(cls: Any, v: Any, info: ValidationInfo) -> Any:
        if v is None:
            return v
        try:
            if each and isinstance(v, list):
                return [parse(x, info.field_name) for x in v]
            return parse(v, info.field_name)
        except DomainError as exc:
            raise refusal(exc) from None
    return classmethod(wrapped)


def when(v: Any, _name: str | None) -> datetime:
    """A time as Jalali text only: a TOML native datetime is refused by the parser (R01; issue 10,
    class 12). Raises: INVALID_INPUT."""
    return persian.parse_jalali_datetime(v)


def day(v: Any, _name: str | None) -> date:
    """A date as Jalali text only (R01). Raises: INVALID_INPUT."""
    return persian.parse_jalali_date(v)


def text(v: Any, _name: str | None) -> str:
    """Any value as normalised text (R21). Raises: nothing."""
    return persian.normalize(str(v))


def normalize_all(value: Any) -> Any:
    """Every text of a parsed file (keys too) normalised (domain.persian.normalize, R21); other values
    as they are. Raises: nothing."""
    if isinstance(value, str):
        return persian.normalize(value)
    if isinstance(value, dict):
        return {normalize_all(k): normalize_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize_all(v) for v in value]
    return value


class TenderTimes(Protocol):
    """What `check_times_order` reads of a `[tender]` table."""

    @property
    def procedure(self) -> str: ...
    @property
    def announce_at(self) -> datetime | None: ...
    @property
    def deadline(self) -> datetime: ...
    @property
    def opening_at(self) -> datetime: ...
    @property
    def min_technical_score(self) -> int | None: ...
    @property
    def price_opening_at(self) -> datetime | None: ...


def check_times_order(t: TenderTimes) -> None:
    """A tender's times in order: announcement (when stated) < deadline <= opening; a two-stage tender
    names its minimum technical score and a price opening not before the opening.

    Raises: ValueError (Persian; pydantic reports it under the table). Rule: scenario-format.md, `[tender]`."""
    if t.announce_at is not None and not t.announce_at < t.deadline:
        raise ValueError("ترتیب زمان‌ها باید آگهی < مهلت ≤ بازگشایی باشد")
    if not t.deadline <= t.opening_at:
        raise ValueError("ترتیب زمان‌ها باید آگهی < مهلت ≤ بازگشایی باشد")
    if t.procedure == "two_stage":
        if t.min_technical_score is None or t.price_opening_at is None:
            raise ValueError("مناقصهٔ دومرحله‌ای min_technical_score و price_opening_at لازم دارد")
        if t.price_opening_at < t.opening_at:
            raise ValueError("price_opening_at باید پس از opening_at باشد")


class FileTable(BaseModel):
    """A table of a file people write: unknown keys refused, values frozen once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class CommissionMemberKeys(FileTable):
    """The keys of a `[[commission]]` entry (a member or alternate of the Article 13 commission), the
    same in a scenario and a tender file; each file adds its own validators of them."""

    id: str
    role: Literal["chair", "finance", "technical", "legal", "security"]
    name: str
    national_id: str
    alternate_for: str | None = None
