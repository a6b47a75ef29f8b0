"""Checking a legacy row (R16, R21): every problem of a row, each a reason code with a Persian message.

A row is either a `ValidRow` (ready to become contract `LEG-<unit code>-<legacy id>`) or a `BadRow`
(bound for its unit's correction inbox with every problem found, not just the first).
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache, partial
from typing import Any

from config.policy import Policy
from domain.contract.code import parse_contract_code, validate_contract_code
from domain.contract.fields import COMMON_FIELDS, GENERAL, missing_fields, publishable, threshold_class
from domain.contract.payment import FINAL_STAGE
from domain.identity import validate_company_id, validate_economic_code, validate_national_id
from domain.persian import (
    TEHRAN,
    format_jalali_date,
    jalali_year,
    needs_normalize,
    normalize,
    parse_amount_rial,
    parse_int,
    parse_jalali_date,
)
from domain.reasons import DomainError, Reason
from services.legacy.read import FIELD_LABELS, LIST_FIELDS, header_key
from store.legacy_repository import ImportedContract

UNASSIGNED = "unassigned"  # inbox of rows that name no unit at all
LEGACY_STAGE = "legacy"
PERSON_FIELDS = ("contractor_ceo", "supervisor")
TEXT_LIMITS = {"budget_line": 60, "expense_factor": 60, "selection_method": 200, "subject": 1000}
FREE_TEXT = tuple(TEXT_LIMITS)  # stored and published as typed, so normalised (no invisible direction marks)

_FINAL_WORDS = {"final", "finalized", "concluded", "نهایی", "نهایی شده", "منعقد شده", "منعقدشده", "قطعی"}
_FINAL_KEYS = {header_key(w) for w in _FINAL_WORDS}
_LEGACY_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-./]*$")
_LIST_SPLIT = re.compile(r"[،;؛,\n]")


@dataclass(frozen=True)
class Problem:
    """One problem of a legacy row: the field, its Persian label, the reason code, the Persian message."""

    field: str
    field_fa: str
    reason: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "field_fa": self.field_fa, "message": self.message, "reason": self.reason}


def problem(field_name: str, error: DomainError) -> Problem:
    """The problem `error` names in field `field_name` (labelled in Persian). Raises: nothing. R16."""
    return Problem(field_name, FIELD_LABELS.get(field_name, field_name), error.reason.value, error.message_fa)


@dataclass(frozen=True)
class UnitRef:
    id: str
    code: str


@dataclass
class ValidRow(ImportedContract):
    """A row ready to import (the contract's columns, see ImportedContract), and whether it may be published
    (contracts before the Shahrivar 1396 cutoff are not: R21)."""

    publishable: bool = True


@dataclass
class BadRow:
    """A row bound for its unit's correction inbox (UNASSIGNED when it names no unit) with its problems."""

    row_number: int
    unit_id: str
    legacy_id: str | None
    problems: list[Problem]
    row: dict[str, Any]
    row_sha256: str


def _cached(fn: Callable[[str], Any]) -> Callable[[str], tuple[Any, DomainError | None]]:
    """Memoise a validator, errors included: legacy files repeat the same people and dates."""
    @lru_cache(maxsize=4_096)
    def run(value: str) -> tuple[Any, DomainError | None]:
        try:
            return fn(value), None
        except DomainError as exc:
            return None, exc
    return run


@dataclass(frozen=True)
class DayInfo:
    jalali: str
    iso: str
    jalali_year: int
    concluded_at: datetime  # Tehran midnight of the contract day, in UTC
    publishable: bool


def _day(text: str, cutoff: date) -> DayInfo:
    day = parse_jalali_date(text)
    return DayInfo(jalali=format_jalali_date(day), iso=day.isoformat(), jalali_year=jalali_year(day),
                   concluded_at=datetime(day.year, day.month, day.day, tzinfo=TEHRAN).astimezone(timezone.utc),
                   publishable=publishable(day, cutoff))


def _clean_text(text: str) -> str:
    """Free text as domain.persian.normalize makes it (the reader normalises only some cells; R21)."""
    return normalize(text) if needs_normalize(text) else text


def _positive_amount(text: str) -> int:
    amount = parse_amount_rial(text, "مبلغ قرارداد")
    if amount <= 0:
        raise DomainError(Reason.AMOUNT_OUT_OF_RANGE, "مبلغ قرارداد باید بیش از صفر باشد")
    return amount


def _contractor_grade(text: str) -> int:
    grade = parse_int(text, "رتبه")
    if not 1 <= grade <= 5:
        raise DomainError(Reason.INVALID_INPUT, f"رتبهٔ پیمانکار باید ۱ تا ۵ باشد: «{grade}»")
    return grade


_national_id = _cached(validate_national_id)
_company_id = _cached(validate_company_id)
_economic_code = _cached(validate_economic_code)
_amount = _cached(_positive_amount)
_grade = _cached(_contractor_grade)
_contract_code = _cached(validate_contract_code)


class RowValidator:
    """Everything a row is checked against: the policy's units, thresholds tables and publication cutoff."""

    def __init__(self, policy: Policy) -> None:
        self.units: dict[str, UnitRef] = {}
        for u in policy.units:
            ref = UnitRef(u.id, u.code)
            for alias in (u.id, u.code, u.name):
                self.units[header_key(alias)] = ref
            if u.code.isdigit():
                self.units[str(int(u.code))] = ref  # "2" for code "02"
        self.tables = {year: (t.small_max, t.medium_max) for year, t in policy.thresholds.items()}
        self._date_info = _cached(partial(_day, cutoff=policy.publication.cutoff))
        # Bounded by the handful of distinct spellings a legacy export uses.
        self._unit_cache: dict[str, UnitRef | None] = {}
        self._final_cache: dict[str, bool] = {}

    def unit(self, raw: str) -> UnitRef | None:
        """The policy unit a cell names (id, code, "2" for "02", or name), None if none. Raises: nothing. R16."""
        if raw not in self._unit_cache:
            self._unit_cache[raw] = self.units.get(header_key(raw)) if raw else None
        return self._unit_cache[raw]

    def validate(self, row_number: int, raw: Mapping[str, str]) -> ValidRow | BadRow:
        """Check one row of read_rows (text cells, list cells unsplit); every problem is collected.

        Amounts are rials; dates Jalali (stored also as Gregorian ISO). Problems carry FIELD_MISSING,
        INVALID_INPUT, UNKNOWN_UNIT, AMOUNT_OUT_OF_RANGE or THRESHOLDS_NOT_CONFIGURED, plus the codes of
        the registry identifier and contract code checks. Raises: nothing (problems are returned in the
        BadRow). Serves R16 and R21.
        """
        problems: list[Problem] = []
        data: dict[str, Any] = {name: raw.get(name, "") for name in COMMON_FIELDS}
        for name in FREE_TEXT:
            data[name] = _clean_text(data[name])
        for name in LIST_FIELDS:
            data[name] = [p.strip() for p in _LIST_SPLIT.split(data[name]) if p.strip()]
        data["threshold_class"] = "pending"  # computed below; its own problems name amount or date
        if not all(data.values()):  # missing_fields is the rule; this only skips it for complete rows
            for name in missing_fields(GENERAL, data):
                problems.append(problem(name, DomainError(Reason.FIELD_MISSING, FIELD_LABELS[name])))

        legacy_id = raw.get("legacy_id", "").replace(" ", "")
        unit_raw = raw.get("unit", "")
        unit = self.unit(unit_raw)
        if not legacy_id:
            problems.insert(0, problem("legacy_id", DomainError(Reason.FIELD_MISSING, FIELD_LABELS["legacy_id"])))
        elif not _LEGACY_ID_RE.match(legacy_id) or len(legacy_id) > _max_legacy_id(unit):
            problems.append(problem("legacy_id", DomainError(
                Reason.INVALID_INPUT, f"شناسهٔ قدیمی «{legacy_id}» فقط حروف لاتین، رقم و - / . _ و حداکثر "
                                      f"{_max_legacy_id(unit)} نویسه")))
        if unit_raw and unit is None:
            problems.append(problem("unit", DomainError(Reason.UNKNOWN_UNIT, f"«{unit_raw}»")))
        if unit is not None:
            data["unit"] = unit.id

        self._identifiers(data, problems)
        grade = self._checked(data, "contractor_grade", _grade, problems)
        if grade is not None:
            data["contractor_grade"] = grade
        day = self._checked(data, "contract_date", self._date_info, problems)
        amount = self._checked(data, "contract_amount_rial", _amount, problems)
        klass = None
        if day is not None and amount is not None:
            try:
                klass = threshold_class(amount, day.jalali_year, self.tables)
            except DomainError as exc:
                problems.append(problem("threshold_class", exc))
        for name, limit in TEXT_LIMITS.items():
            if len(data[name]) > limit:
                problems.append(problem(name, DomainError(Reason.INVALID_INPUT, f"بیش از {limit} نویسه")))
        code = self._code(raw.get("contract_code", ""), unit, problems)

        if problems:
            return BadRow(row_number, unit.id if unit else (unit_raw[:64] or UNASSIGNED), legacy_id or None,
                          problems, dict(raw), sha256_text(canonical_json(raw)))

        assert unit is not None and day is not None and amount is not None and klass is not None
        status = _clean_text(raw.get("status", ""))
        stage = FINAL_STAGE if self._final(status) else LEGACY_STAGE
        data.update(contract_date=day.jalali, contract_date_gregorian=day.iso, contract_amount_rial=amount,
                    threshold_class=klass, legacy_id=legacy_id, legacy_status=status or None, source="legacy",
                    publishable=day.publishable)
        data_json = _contract_json(data)
        return ValidRow(row_number=row_number, unit_id=unit.id, legacy_id=legacy_id,
                        tracking_number=f"LEG-{unit.code}-{legacy_id}", code=code, stage=stage,
                        threshold_class=klass, amount_rial=amount, contractor_id=data["contractor_national_id"],
                        budget_line=data["budget_line"], expense_factor=data["expense_factor"],
                        concluded_at=day.concluded_at if stage == FINAL_STAGE else None,
                        publishable=day.publishable, data_json=data_json,
                        row_sha256=sha256_text(f"{data_json}|{stage}|{code or ''}"))

    def _final(self, status: str) -> bool:
        if status not in self._final_cache:
            self._final_cache[status] = header_key(status) in _FINAL_KEYS
        return self._final_cache[status]

    @staticmethod
    def _checked(data: dict[str, Any], name: str, check: Callable[[str], tuple[Any, DomainError | None]],
                 problems: list[Problem]) -> Any:
        """The checked value of a present cell; None (and a problem when it is wrong) otherwise."""
        if not data[name]:
            return None
        value, err = check(data[name])
        if err:
            problems.append(problem(name, err))
        return value

    @classmethod
    def _identifiers(cls, data: dict[str, Any], problems: list[Problem]) -> None:
        checks = (("contractor_national_id", _company_id), ("contractor_economic_code", _economic_code),
                  *((name, _national_id) for name in PERSON_FIELDS))
        for name, check in checks:
            value = cls._checked(data, name, check, problems)
            if value is not None:
                data[name] = value
        for name in LIST_FIELDS:
            checked = []
            for nid in data[name]:
                value, err = _national_id(nid)
                if err:
                    problems.append(problem(name, err))
                else:
                    checked.append(value)
            data[name] = checked if len(checked) == len(data[name]) else data[name]

    @staticmethod
    def _code(raw: str, unit: UnitRef | None, problems: list[Problem]) -> str | None:
        if not raw:
            return None
        code, err = _contract_code(raw)
        if err:
            problems.append(problem("contract_code", err))
            return None
        if unit is not None and parse_contract_code(code)[0] != unit.code.upper():
            problems.append(problem("contract_code", DomainError(
                Reason.INVALID_INPUT, f"کد قرارداد «{code}» از آنِ واحد دیگری است، نه {unit.id}")))
            return None
        return code


def _max_legacy_id(unit: UnitRef | None) -> int:
    # "LEG-<unit code>-<legacy id>" must fit the tracking number's 40 characters.
    return 40 - len("LEG--") - len(unit.code if unit else "00")


# --- canonical JSON and hashes --------------------------------------------------------------

_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, non-ASCII kept: the one JSON form rows are stored and hashed in.

    Raises: nothing (values JSON does not know are written as str). Serves R16."""
    return _ENCODER.encode(value)


def sha256_text(text: str) -> str:
    """SHA-256 (hex) of UTF-8 text: how a legacy row is recognised again on a re-import. Raises: nothing. R16."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_esc = json.encoder.encode_basestring  # quoted, escaped, non-ASCII kept


def _ids(values: list[str]) -> str:
    return '["' + '","'.join(values) + '"]' if values else "[]"


def _contract_json(d: dict[str, Any]) -> str:
    """canonical_json(d) of a validated row, byte for byte, at a fraction of the cost (it runs once per row).

    Validated identifiers are digits only and dates have a fixed shape, so only free text is escaped.
    """
    status = "null" if d["legacy_status"] is None else _esc(d["legacy_status"])
    return (f'{{"budget_line":{_esc(d["budget_line"])},"commission_members":{_ids(d["commission_members"])},'
            f'"contract_amount_rial":{d["contract_amount_rial"]:d},"contract_date":"{d["contract_date"]}",'
            f'"contract_date_gregorian":"{d["contract_date_gregorian"]}","contractor_ceo":"{d["contractor_ceo"]}",'
            f'"contractor_economic_code":"{d["contractor_economic_code"]}",'
            f'"contractor_grade":{d["contractor_grade"]:d},"contractor_national_id":"{d["contractor_national_id"]}",'
            f'"contractor_signatories":{_ids(d["contractor_signatories"])},'
            f'"employer_signatories":{_ids(d["employer_signatories"])},"expense_factor":{_esc(d["expense_factor"])},'
            f'"legacy_id":{_esc(d["legacy_id"])},"legacy_status":{status},'
            f'"publishable":{"true" if d["publishable"] else "false"},'
            f'"selection_method":{_esc(d["selection_method"])},"source":{_esc(d["source"])},'
            f'"subject":{_esc(d["subject"])},"supervisor":"{d["supervisor"]}",'
            f'"threshold_class":"{d["threshold_class"]}","unit":{_esc(d["unit"])}}}')
