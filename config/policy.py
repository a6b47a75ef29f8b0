"""Versioned policy files (TOML), validated at load with errors naming file, key and problem."""
from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from domain.persian import format_jalali_date, parse_jalali_date
from domain.reasons import DomainError, Reason

RULES = (
    "electronic_minutes_mandatory",
    "registration_without_workflow_disabled",
    "electronic_envelope_b",
    "physical_documents_accepted",
    "pilot",
)
RULES_FA = {
    "electronic_minutes_mandatory": "صورتجلسه فقط با امضای الکترونیکی معتبر است",
    "registration_without_workflow_disabled": "ثبت قرارداد بدون گردش غیرفعال است",
    "electronic_envelope_b": "پاکت ب به صورت الکترونیکی دریافت و گشوده می‌شود",
    "physical_documents_accepted": "اسناد به صورت فیزیکی نیز پذیرفته می‌شود",
    "pilot": "واحد در فهرست واحدهای پایلوت است",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _jalali(value: object) -> date:
    if isinstance(value, date):
        return value
    try:
        return parse_jalali_date(str(value))
    except DomainError as exc:  # pydantic then reports it with the key path
        raise ValueError(exc.message_fa) from None


class Defaults(_Strict):
    min_valid_bids: int = Field(2, ge=1)
    signing_days: int = Field(7, ge=1)
    performance_guarantee_rate: Decimal = Decimal("0.05")
    allowed_change: Decimal = Decimal("0.25")
    min_submission_days: int = Field(10, ge=1)
    quorum: Literal["all_voting", "majority"] = "all_voting"
    price_inquiry_min_quotes: int = Field(3, ge=1)
    deductions: dict[str, Decimal] = Field(default_factory=lambda: {
        "retention": Decimal("0.10"), "insurance": Decimal("0.05"), "tax": Decimal("0")})

    @field_validator("deductions")
    @classmethod
    def _rates(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        for name, rate in v.items():
            if not Decimal(0) <= rate < Decimal(1):
                raise ValueError(f"rate {name}={rate} must be in [0, 1)")
        return v


class Threshold(_Strict):
    small_max: int = Field(gt=0)
    medium_max: int = Field(gt=0)

    @model_validator(mode="after")
    def _order(self) -> "Threshold":
        if self.medium_max <= self.small_max:
            raise ValueError("medium_max must be greater than small_max")
        return self


class CalendarEntry(_Strict):
    rule: Literal[RULES]  # type: ignore[valid-type]
    units: list[str]
    from_: date = Field(alias="from")
    until: date | None = None
    value: bool = True

    _v_from = field_validator("from_", mode="before")(classmethod(lambda cls, v: _jalali(v)))
    _v_until = field_validator("until", mode="before")(classmethod(lambda cls, v: None if v is None else _jalali(v)))


class StageDef(_Strict):
    stage: str
    role: str
    signature: bool = False


class FormulaDef(_Strict):
    id: str
    version: int = Field(ge=1)
    expression: str
    approved_by: str
    approved_at: date
    technical_council_ref: str
    min_count: int | None = None

    _v_at = field_validator("approved_at", mode="before")(classmethod(lambda cls, v: _jalali(v)))


class UnitDef(_Strict):
    id: str
    name: str
    kind: Literal["headquarters", "district", "subsidiary"]
    code: str


class Announcement(_Strict):
    required_phrases: list[str]
    physical_phrase: str


class Workflow(_Strict):
    default: list[StageDef]
    units: dict[str, list[StageDef]] = Field(default_factory=dict)


class Policy(_Strict):
    version: str
    defaults: Defaults
    thresholds: dict[int, Threshold]
    calendar: list[CalendarEntry]
    workflow: Workflow
    formulas: list[FormulaDef]
    announcement: Announcement
    units: list[UnitDef]

    @model_validator(mode="after")
    def _cross_checks(self) -> "Policy":
        known = {u.id for u in self.units}
        for i, entry in enumerate(self.calendar):
            for unit in entry.units:
                if unit != "*" and unit not in known:
                    raise ValueError(f"calendar[{i}].units: unknown unit {unit!r}")
        seen: set[tuple[str, int]] = set()
        for f in self.formulas:
            if (f.id, f.version) in seen:
                raise ValueError(f"formulas: duplicate {f.id} version {f.version}")
            seen.add((f.id, f.version))
        return self

    # --- questions the engine asks -------------------------------------------------
    def unit(self, unit_id: str) -> UnitDef:
        for u in self.units:
            if u.id == unit_id:
                return u
        raise DomainError(Reason.UNKNOWN_UNIT, f"«{unit_id}»")

    def rule(self, rule: str, unit_id: str, on: date) -> bool:
        """Whether a calendar rule is in force for a unit on a date."""
        self.unit(unit_id)
        best: tuple[date, int, bool] | None = None
        for entry in self.calendar:
            if entry.rule != rule:
                continue
            specific = unit_id in entry.units
            if not specific and "*" not in entry.units:
                continue
            if entry.from_ > on or (entry.until is not None and on >= entry.until):
                continue
            key = (entry.from_, 1 if specific else 0, entry.value)
            if best is None or key[:2] > best[:2]:
                best = key
        return bool(best and best[2])

    def effects(self, unit_id: str, on: date) -> dict[str, bool]:
        return {r: self.rule(r, unit_id, on) for r in RULES}

    def threshold(self, jalali_year: int) -> Threshold:
        try:
            return self.thresholds[jalali_year]
        except KeyError:
            raise DomainError(Reason.THRESHOLDS_NOT_CONFIGURED, f"سال {jalali_year}") from None

    def threshold_class(self, amount_rial: int, jalali_year: int) -> str:
        t = self.threshold(jalali_year)
        if amount_rial <= t.small_max:
            return "small"
        return "medium" if amount_rial <= t.medium_max else "large"

    def stages(self, unit_id: str) -> list[StageDef]:
        return self.workflow.units.get(unit_id, self.workflow.default)

    def formula(self, formula_id: str, version: int | None = None) -> FormulaDef:
        found = [f for f in self.formulas if f.id == formula_id and (version is None or f.version == version)]
        if not found:
            raise DomainError(Reason.POLICY_INVALID, f"فرمول {formula_id} نسخهٔ {version} تعریف نشده است")
        return max(found, key=lambda f: f.version)

    def describe(self, unit_id: str, on: date) -> dict[str, object]:
        u = self.unit(unit_id)
        return {
            "policy_version": self.version,
            "unit": u.id,
            "unit_name": u.name,
            "date": format_jalali_date(on),
            "rules": {r: {"in_force": v, "label": RULES_FA[r]} for r, v in self.effects(unit_id, on).items()},
            "workflow": [s.stage for s in self.stages(unit_id)],
        }


class PolicyError(DomainError):
    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(Reason.POLICY_INVALID, f"{path}: " + "; ".join(problems))


def load_policy(path: Path | str) -> Policy:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(path, ["پرونده پیدا نشد"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(path, [f"TOML نامعتبر: {exc}"]) from None
    # TOML table keys are strings; thresholds are keyed by Jalali year.
    try:
        return Policy.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()]
        raise PolicyError(path, problems) from None
    except DomainError as exc:
        raise PolicyError(path, [exc.message_fa]) from None
