"""Versioned policy files (TOML), validated at load with errors naming file, key and problem."""
from __future__ import annotations

import tomllib
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from domain.auction.rules import ExtensionRules
from domain.contract.fields import threshold_class as domain_threshold_class
from domain.formulas import Formula
from domain.limits import ContentLimits
from domain.persian import format_jalali_date, parse_jalali_date
from domain.policy.calendar import DatedSwitch, EventSwitch, RulesCalendar, decide_rule
from domain.reasons import DomainError, Reason
from domain.tender.evaluation import PriceRules

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
    "registration_agile": "ثبت قرارداد چابک مجاز است",
    "electronic_documents_optional": "ارائهٔ الکترونیکی اسناد در کنار نسخهٔ فیزیکی اختیاری است",
}
# Rules of R27 beyond those the notice states (`Policy.effects` keeps RULES only, so the signed
# notices and the rehearsals' output do not change): registration modes and notice wording.
R27_RULES = ("registration_agile", "electronic_documents_optional")
ALL_RULES = RULES + R27_RULES
# The value each rule takes as units move to electronic registration and signing (R27). A change
# giving a unit back the other value where this one was in force is a slide-back, refused without
# an explicit approval (RULE_CHANGE_NOT_APPROVED): accepting physical copies again, or making the
# electronic copy optional beside the physical one again, is a slide-back like re-enabling
# registration without workflow.
RULE_FORWARD: dict[str, bool] = {
    "electronic_minutes_mandatory": True,
    "registration_without_workflow_disabled": True,
    "electronic_envelope_b": True,
    "physical_documents_accepted": False,
    "pilot": True,
    "registration_agile": True,
    "electronic_documents_optional": False,
}
# Events that switch rules per unit (`[[calendar_events]]`); services.rules_calendar records them.
CALENDAR_EVENTS = ("first_contract_with_workflow",)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _jalali(value: object) -> date:
    # Jalali text only: a TOML native date (`from = 1399-10-01`) is Gregorian, and parse_jalali_date refuses it.
    try:
        return parse_jalali_date(value)
    except DomainError as exc:  # pydantic then reports it with the key path
        raise ValueError(exc.message_fa) from None


class Defaults(_Strict):
    """The defaults tender-rules.md leaves to configuration; every one is required (the TOML sets them)."""

    min_valid_bids: int = Field(ge=1)
    signing_days: int = Field(ge=1)
    performance_guarantee_rate: Decimal
    allowed_change: Decimal
    min_submission_days: int = Field(ge=1)
    quorum: Literal["all_voting", "majority"]
    price_inquiry_min_quotes: int = Field(ge=1)
    signing_time_skew_minutes: int = Field(ge=0)  # claimed signing time vs receipt ("Stations and trust")
    deductions: dict[str, Decimal]

    @field_validator("deductions")
    @classmethod
    def _rates(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        for name, rate in v.items():
            if not Decimal(0) <= rate < Decimal(1):
                raise ValueError(f"rate {name}={rate} must be in [0, 1)")
        return v


class Limits(_Strict):
    """Caps on what a sealed bid may carry (R08, issue 10 class 14); every one is required (the TOML
    sets them): envelope C's coefficient, any sealed amount in rials, a whole sealed bid and one
    attachment of envelope B in bytes."""

    max_coefficient: Decimal = Field(gt=0)
    max_amount_rial: int = Field(gt=0)
    max_bid_bytes: int = Field(gt=0)
    max_attachment_bytes: int = Field(gt=0)

    @model_validator(mode="after")
    def _attachment_fits(self) -> Limits:
        if self.max_attachment_bytes > self.max_bid_bytes:
            raise ValueError("max_attachment_bytes must not exceed max_bid_bytes")
        return self


class OnlineAuction(_Strict):
    """`[online_auction]`: the online auction's defaults (tender-rules.md `online_auction`); every one
    is required (the TOML sets them)."""

    min_increment_rate: Decimal = Field(gt=0, lt=1)
    extend_within_minutes: int = Field(ge=0)
    extend_by_minutes: int = Field(ge=1)
    max_extensions: int = Field(ge=0)


class Threshold(_Strict):
    small_max: int = Field(gt=0)
    medium_max: int = Field(gt=0)

    @model_validator(mode="after")
    def _order(self) -> Threshold:
        if self.medium_max <= self.small_max:
            raise ValueError("medium_max must be greater than small_max")
        return self


class CalendarEntry(_Strict):
    rule: Literal[ALL_RULES]  # type: ignore[valid-type]
    units: list[str]
    from_: date = Field(alias="from")
    until: date | None = None
    value: bool = True

    _v_from = field_validator("from_", mode="before")(classmethod(lambda cls, v: _jalali(v)))
    _v_until = field_validator("until", mode="before")(classmethod(lambda cls, v: None if v is None else _jalali(v)))


class EventEntry(_Strict):
    """`[[calendar_events]]`: `rule` takes `value` for a unit of `units` ("*" = every unit) from the
    moment `event` happened for that unit, whatever the date (R27)."""

    rule: Literal[ALL_RULES]  # type: ignore[valid-type]
    units: list[str]
    event: Literal[CALENDAR_EVENTS]  # type: ignore[valid-type]
    value: bool


class CalendarChanges(_Strict):
    """`[calendar_changes]`: who may propose and approve a change to the rules calendar (R27): a
    holder of one of `proposer_roles`, and another person holding `approver_role`, in `unit`."""

    unit: str
    proposer_roles: list[str] = Field(min_length=1)
    approver_role: str


class StageDef(_Strict):
    """One workflow stage: its approving role, whether it is e-signed with a token, the fields it
    collects before its approval, and whether the contractor's signatory co-signs it (R12)."""

    stage: str
    role: str
    signature: bool
    requires_fields: tuple[str, ...] | None = None  # absent: the stage collects no field
    contractor_signs: bool | None = None            # absent: the contractor does not co-sign


class FormulaDef(_Strict):
    id: str
    version: int = Field(ge=1)
    expression: str
    approved_by: str
    approved_at: date
    technical_council_ref: str
    min_count: int | None = Field(default=None, ge=1)  # only rules that need a count (abnormally-low) set it

    _v_at = field_validator("approved_at", mode="before")(classmethod(lambda cls, v: _jalali(v)))

    def to_formula(self) -> Formula:
        """The domain formula of this policy entry, approved at 00:00 UTC of its approval day.

        Raises: POLICY_INVALID (missing approval record or unparsable expression)."""
        return Formula(self.id, self.version, self.expression, self.approved_by,
                       datetime.combine(self.approved_at, time.min, tzinfo=timezone.utc),
                       self.technical_council_ref)


class UnitDef(_Strict):
    id: str
    name: str
    kind: Literal["headquarters", "district", "subsidiary"]
    code: str


class Announcement(_Strict):
    required_phrases: list[str]
    physical_phrase: str


class Publication(_Strict):
    """What the transparency site publishes (R21): contracts concluded from `cutoff` on, under the
    publisher name of its OCDS packages."""

    cutoff: date
    publisher: str = Field(min_length=1)

    _v_cutoff = field_validator("cutoff", mode="before")(classmethod(lambda cls, v: _jalali(v)))


class Completeness(_Strict):
    """`[completeness]` (R31): the days each unit has to correct what a completeness check found
    (s111 item 1-4: at most two weeks)."""

    correction_days: int = Field(ge=1)


class Workflow(_Strict):
    default: list[StageDef]
    units: dict[str, list[StageDef]] = Field(default_factory=dict)


class Policy(_Strict):
    version: str
    defaults: Defaults
    limits: Limits
    online_auction: OnlineAuction
    thresholds: dict[int, Threshold]
    calendar: list[CalendarEntry]
    workflow: Workflow
    formulas: list[FormulaDef]
    announcement: Announcement
    publication: Publication
    units: list[UnitDef]
    # R27 (absent in older policy files: no event switches, no store changes to the calendar)
    calendar_events: list[EventEntry] = Field(default_factory=list)
    calendar_changes: CalendarChanges | None = None
    # R31 (absent in older policy files: the correction inbox then has no deadline to measure against)
    completeness: Completeness | None = None

    @model_validator(mode="after")
    def _cross_checks(self) -> Policy:
        known = {u.id for u in self.units}
        for i, entry in enumerate(self.calendar):
            for unit in entry.units:
                if unit != "*" and unit not in known:
                    raise ValueError(f"calendar[{i}].units: unknown unit {unit!r}")
        for i, ev in enumerate(self.calendar_events):
            for unit in ev.units:
                if unit != "*" and unit not in known:
                    raise ValueError(f"calendar_events[{i}].units: unknown unit {unit!r}")
        if self.calendar_changes is not None and self.calendar_changes.unit not in known:
            raise ValueError(f"calendar_changes.unit: unknown unit {self.calendar_changes.unit!r}")
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
        """Whether a calendar rule is in force for a unit on a Jalali day by this TOML alone (dated
        entries; no store: no approved changes, no events). Callers with a store ask
        services.rules_calendar, which adds the store's approved changes and events.

        Raises: UNKNOWN_UNIT. Rule: R27 (domain.policy.calendar.decide_rule)."""
        self.unit(unit_id)
        return decide_rule(self.rules_calendar(), rule, unit_id, on).in_force

    def rules_calendar(self) -> RulesCalendar:
        """The base of the rules calendar this TOML holds: its dated entries (`[[calendar]]`) and
        event switches (`[[calendar_events]]`), with their positions in the file. Raises: nothing. Rule: R27."""
        return RulesCalendar(
            self.version,
            tuple(DatedSwitch(e.rule, tuple(e.units), e.from_, e.until, e.value, i) for i, e in enumerate(self.calendar)),
            tuple(EventSwitch(e.rule, tuple(e.units), e.event, e.value, i) for i, e in enumerate(self.calendar_events)))

    def effects(self, unit_id: str, on: date) -> dict[str, bool]:
        return {r: self.rule(r, unit_id, on) for r in RULES}

    def threshold(self, jalali_year: int) -> Threshold:
        try:
            return self.thresholds[jalali_year]
        except KeyError:
            raise DomainError(Reason.THRESHOLDS_NOT_CONFIGURED, f"سال {jalali_year}") from None

    def threshold_class(self, amount_rial: int, jalali_year: int) -> str:
        """small | medium | large by this policy's national thresholds for the Jalali year.

        Raises: THRESHOLDS_NOT_CONFIGURED (domain.contract.fields.threshold_class)."""
        tables = {year: (t.small_max, t.medium_max) for year, t in self.thresholds.items()}
        return domain_threshold_class(amount_rial, jalali_year, tables)

    def stages(self, unit_id: str) -> list[StageDef]:
        return self.workflow.units.get(unit_id, self.workflow.default)

    def formula(self, formula_id: str, version: int | None = None) -> FormulaDef:
        found = [f for f in self.formulas if f.id == formula_id and (version is None or f.version == version)]
        if not found:
            raise DomainError(Reason.POLICY_INVALID, f"فرمول {formula_id} نسخهٔ {version} تعریف نشده است")
        return max(found, key=lambda f: f.version)

    def signing_time_skew(self) -> timedelta:
        """How far a signature's claimed signing time may lie from the time the system received it
        before it is SIGNING_TIME_SKEW ("Stations and trust" in tender-rules.md: default 5 minutes; R05).

        Raises: nothing."""
        return timedelta(minutes=self.defaults.signing_time_skew_minutes)

    def price_rules(self, abnormally_low: Formula) -> PriceRules:
        """The price rules a tender is evaluated with: its approved abnormal-price formula (as the
        tender recorded it), that formula's min_count from this policy, price_inquiry_min_quotes.

        Raises: POLICY_INVALID when the formula version is not in this policy or has no min_count."""
        entry = self.formula(abnormally_low.id, abnormally_low.version)
        if entry.version != abnormally_low.version or entry.min_count is None:
            raise DomainError(Reason.POLICY_INVALID, f"فرمول {abnormally_low.ref} در سیاست حداقل تعداد (min_count) ندارد")
        return PriceRules(abnormally_low, entry.min_count, self.defaults.price_inquiry_min_quotes)

    def online_auction_rules(self) -> ExtensionRules:
        """The online auction's defaults as the domain takes them: the minimum increment's rate of the
        base price, and an offer within `extend_within` of the close extends it by `extend_by`, at
        most `max_extensions` times (tender-rules.md `online_auction`: **default** 1%, 2 minutes, 2
        minutes, 10).

        Raises: POLICY_INVALID (domain.auction.rules.ExtensionRules)."""
        oa = self.online_auction
        return ExtensionRules(oa.min_increment_rate, timedelta(minutes=oa.extend_within_minutes),
                              timedelta(minutes=oa.extend_by_minutes), oa.max_extensions)

    def content_limits(self) -> ContentLimits:
        """The caps of `[limits]` as the sealing layer and the submission step check them (R08).

        Raises: nothing."""
        lim = self.limits
        return ContentLimits(lim.max_coefficient, lim.max_amount_rial, lim.max_bid_bytes, lim.max_attachment_bytes)

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
