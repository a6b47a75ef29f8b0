"""The pilot/rehearsal scenario file (../shared/spec/scenario-format.md): a public interface.

Validated at load; every problem names the file, the key and what is wrong, in Persian. Every text
value is domain.persian.normalize'd first (no invisible direction controls reach the store, the
signed minutes or the publication: R21); every number goes through the one parser of domain.persian
(Persian or ASCII digits, grouping only by threes, ٫ as the decimal point: R01); identifiers through
domain.identity; times through parse_jalali_datetime (a Tehran time that did not exist, or existed
twice without an offset, is refused: R01); dates and times only as Jalali text (a TOML native date or
datetime is refused: R01).
"""
from __future__ import annotations

import tomllib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from domain.identity import validate_company_id, validate_economic_code, validate_national_id
from domain.persian import parse_amount_rial, parse_decimal, parse_int
from domain.reasons import DomainError, Reason
from domain.validation_fa import problems_fa
from services.fields import CommissionMemberKeys, check_times_order, day, edge, normalize_all, refusal, text, when

BUNDLED = Path(__file__).parent / "scenarios"
DEFAULT_SCENARIO = BUNDLED / "district-12-asphalt.toml"


# The Persian name of each numeric key, for the parser's messages (the key path is reported too).
NUMBER_LABELS = {
    "small_max": "سقف معاملات کوچک", "medium_max": "سقف معاملات متوسط", "unit_price": "بهای واحد",
    "quantity": "مقدار", "guarantee_rial": "مبلغ تضمین", "min_technical_score": "حداقل امتیاز فنی",
    "min_valid_bids": "حداقل پیشنهاد معتبر", "signing_days": "مهلت امضا (روز)", "allowed_grades": "رتبهٔ مجاز",
    "amount_rial": "مبلغ", "coefficient": "ضریب", "grade": "رتبه", "technical_score": "امتیاز فنی",
    "retention": "کسر حسن انجام کار", "insurance": "کسر بیمه", "tax": "کسر مالیات",
    "min_vehicles": "حداقل خودرو", "min_workers": "حداقل کارگر",
    "penalty_per_missing_vehicle_rial": "جریمهٔ هر خودروی کم", "penalty_per_missing_worker_rial": "جریمهٔ هر کارگر کم",
    "vehicles": "تعداد خودرو", "workers": "تعداد کارگر", "thresholds": "سال جدول نصاب",
}


def _edge(fn):
    """Turn a DomainError from an edge parser into a Persian pydantic error so the key is reported."""
    return edge(lambda v, _name: fn(v), each=False)


def _number(parse):
    """A before-validator reading a number (or a list of numbers) with the one parser of domain.persian."""
    return edge(lambda v, name: parse(v, NUMBER_LABELS.get(name or "", name or "عدد")))


# Only Jalali text: a TOML native date or datetime (Gregorian, zone-less) is refused by the parsers.
_dt = edge(when, each=False)
_d = edge(day, each=False)
_rial = _number(parse_amount_rial)
_int = _number(parse_int)
_dec = _number(parse_decimal)
_text = edge(text, each=False)


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScenarioInfo(_M):
    name: str


class Threshold(_M):
    small_max: int
    medium_max: int
    _v = field_validator("small_max", "medium_max", mode="before")(_rial)


class PriceItem(_M):
    code: str
    unit: str
    unit_price: int
    _v = field_validator("unit_price", mode="before")(_rial)


class PriceListDef(_M):
    id: str
    items: list[PriceItem] = Field(min_length=1)


class Quantity(_M):
    code: str
    quantity: Decimal = Field(ge=0)
    _v = field_validator("quantity", mode="before")(_dec)


class TenderDef(_M):
    kind: Literal["tender", "auction", "price_inquiry"]
    procedure: Literal["one_stage", "two_stage"]
    unit: str
    title: str
    items: list[Quantity] = Field(min_length=1)
    guarantee_rial: int
    guarantee_valid_until: date
    announce_at: datetime
    deadline: datetime
    opening_at: datetime
    required_documents: list[str] = Field(default_factory=list)
    allowed_grades: list[int] = Field(default_factory=list)
    min_technical_score: int | None = None
    price_opening_at: datetime | None = None
    min_valid_bids: int | None = Field(default=None, ge=1)
    signing_days: int | None = Field(default=None, ge=1)

    _v_dt = field_validator("announce_at", "deadline", "opening_at", "price_opening_at", mode="before")(_dt)
    _v_d = field_validator("guarantee_valid_until", mode="before")(_d)
    _v_r = field_validator("guarantee_rial", mode="before")(_rial)
    _v_t = field_validator("title", mode="before")(_text)
    _v_i = field_validator("allowed_grades", "min_technical_score", "min_valid_bids", "signing_days",
                           mode="before")(_int)

    @model_validator(mode="after")
    def _order(self) -> TenderDef:
        check_times_order(self)
        return self


class Member(CommissionMemberKeys):
    _v = field_validator("national_id", mode="before")(_edge(validate_national_id))
    _v_t = field_validator("name", mode="before")(_text)


class Guarantee(_M):
    amount_rial: int
    valid_until: date
    _v_r = field_validator("amount_rial", mode="before")(_rial)
    _v_d = field_validator("valid_until", mode="before")(_d)


class Price(_M):
    coefficient: Decimal | None = Field(default=None, gt=0, le=10)
    amount_rial: int | None = None
    _v_r = field_validator("amount_rial", mode="before")(_rial)
    # TOML floats keep the decimal the person wrote (0.93, not 0.9300000000000000488); text may use ٫.
    _v_c = field_validator("coefficient", mode="before")(_dec)

    @model_validator(mode="after")
    def _one(self) -> Price:
        if (self.coefficient is None) == (self.amount_rial is None):
            raise ValueError("قیمت باید یا coefficient باشد یا amount_rial، نه هر دو و نه هیچ")
        return self


class BidderDef(_M):
    id: str
    name: str
    national_id: str
    economic_code: str
    grade: int
    submit_at: datetime
    guarantee: Guarantee | None = None
    documents: list[str] = Field(default_factory=list)
    technical_score: int | None = None
    price: Price

    _v_n = field_validator("national_id", mode="before")(_edge(validate_company_id))
    _v_e = field_validator("economic_code", mode="before")(_edge(validate_economic_code))
    _v_dt = field_validator("submit_at", mode="before")(_dt)
    _v_t = field_validator("name", mode="before")(_text)
    _v_i = field_validator("grade", "technical_score", mode="before")(_int)


class Event(_M):
    at: datetime
    kind: Literal["revoke_certificate", "absent", "tamper_envelope", "decline_contract", "resubmit"]
    who: str
    envelope: Literal["A", "B", "C"] | None = None
    guarantee: Guarantee | None = None
    documents: list[str] | None = None
    technical_score: int | None = None
    price: Price | None = None
    _v_dt = field_validator("at", mode="before")(_dt)
    _v_i = field_validator("technical_score", mode="before")(_int)

    @model_validator(mode="after")
    def _envelope(self) -> Event:
        if self.kind == "tamper_envelope" and self.envelope is None:
            raise ValueError("tamper_envelope به envelope نیاز دارد")
        return self


class Deductions(_M):
    retention: Decimal | None = None
    insurance: Decimal | None = None
    tax: Decimal | None = None
    _v = field_validator("retention", "insurance", "tax", mode="before")(_dec)


class ContractDef(_M):
    budget_line: str = ""
    expense_factor: str = ""
    supervisor: str
    stop_at_stage: str | None = None
    deductions: Deductions | None = None
    service: Literal["waste"] | None = None
    min_vehicles: int | None = None
    min_workers: int | None = None
    penalty_per_missing_vehicle_rial: int = 0
    penalty_per_missing_worker_rial: int = 0
    _v = field_validator("supervisor", mode="before")(_edge(validate_national_id))
    _v_r = field_validator("penalty_per_missing_vehicle_rial", "penalty_per_missing_worker_rial",
                           mode="before")(_rial)
    _v_i = field_validator("min_vehicles", "min_workers", mode="before")(_int)


class StatementDef(_M):
    id: str
    at: datetime
    items: list[Quantity]
    vehicles: int | None = None
    workers: int | None = None
    signed_by_contractor: bool = True
    _v_dt = field_validator("at", mode="before")(_dt)
    _v_i = field_validator("vehicles", "workers", mode="before")(_int)


class PaymentDef(_M):
    id: str
    statement: str
    at: datetime
    contract_code: str = "from-award"
    _v_dt = field_validator("at", mode="before")(_dt)


class ScenarioFile(_M):
    """What every kind's scenario file shares: its text normalised as people type it (digits, letters,
    invisible marks), and the threshold tables keyed by Jalali year."""

    @model_validator(mode="before")
    @classmethod
    def _normalised(cls, data: Any) -> Any:
        return normalize_all(data)

    @field_validator("thresholds", mode="before", check_fields=False)
    @classmethod
    def _years(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        try:
            return {parse_int(year, NUMBER_LABELS["thresholds"]): table for year, table in v.items()}
        except DomainError as exc:
            raise refusal(exc) from None


class Scenario(ScenarioFile):
    scenario: ScenarioInfo
    thresholds: dict[int, Threshold] = Field(default_factory=dict)
    price_list: PriceListDef
    tender: TenderDef
    commission: list[Member] = Field(min_length=1)
    bidders: list[BidderDef] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    contract: ContractDef | None = None
    status_statements: list[StatementDef] = Field(default_factory=list)
    payments: list[PaymentDef] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        ids = [m.id for m in self.commission] + [b.id for b in self.bidders]
        if len(ids) != len(set(ids)):
            raise ValueError("شناسه‌های اعضا و پیشنهاددهندگان باید یکتا باشند")
        members = {m.id for m in self.commission}
        for m in self.commission:
            if m.alternate_for and m.alternate_for not in members:
                raise ValueError(f"commission.{m.id}.alternate_for: عضو «{m.alternate_for}» تعریف نشده است")
        codes = {i.code for i in self.price_list.items}
        for q in list(self.tender.items) + [i for s in self.status_statements for i in s.items]:
            if q.code not in codes:
                raise ValueError(f"ردیف «{q.code}» در فهرست بها نیست")
        for e in self.events:
            if e.who not in set(ids):
                raise ValueError(f"events: «{e.who}» نه عضو کمیسیون است نه پیشنهاددهنده")
        statements = {s.id for s in self.status_statements}
        for p in self.payments:
            if p.statement not in statements:
                raise ValueError(f"payments.{p.id}: صورت‌وضعیت «{p.statement}» تعریف نشده است")
        return self


def read_scenario_toml(path: Path | str) -> dict[str, Any]:
    """The TOML of the scenario file at `path`, as read by every kind's loader.

    Raises: INVALID_INPUT naming the file (missing, not UTF-8, not TOML)."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DomainError(Reason.INVALID_INPUT, f"{path}: پرونده پیدا نشد") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DomainError(Reason.INVALID_INPUT, f"{path}: TOML نامعتبر: {exc}") from None


def load_scenario(path: Path | str) -> Scenario:
    path = Path(path)
    raw = read_scenario_toml(path)
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        raise DomainError(Reason.INVALID_INPUT, f"{path}: {problems_fa(exc.errors())}") from None


def tender_id_of(scenario: Scenario) -> str:
    """A rehearsal's tender id is its scenario's name."""
    return scenario.scenario.name


def tender_file(scenario: Scenario, price_list_version: int = 1) -> bytes:
    """The tender file (UTF-8 TOML, services.tender.files.parse_tender_file) the rehearsal's contracts
    officer sends: the scenario's `[tender]` and `[[commission]]` with `[tender] id` (tender_id_of) and
    the `[price_list]` reference. Times are written as exact Jalali text (seconds and offset), dates as
    Jalali dates, amounts and quantities as text, so the file reads back to the same values."""
    import tomli_w

    from domain.persian import format_jalali_date, format_jalali_datetime_exact

    t = scenario.tender
    tender: dict[str, Any] = {
        "id": tender_id_of(scenario), "kind": t.kind, "procedure": t.procedure, "unit": t.unit, "title": t.title,
        "items": [{"code": i.code, "quantity": str(i.quantity)} for i in t.items],
        "guarantee_rial": t.guarantee_rial, "guarantee_valid_until": format_jalali_date(t.guarantee_valid_until),
        "announce_at": format_jalali_datetime_exact(t.announce_at),
        "deadline": format_jalali_datetime_exact(t.deadline),
        "opening_at": format_jalali_datetime_exact(t.opening_at),
        "required_documents": list(t.required_documents), "allowed_grades": list(t.allowed_grades)}
    optional = {"min_technical_score": t.min_technical_score, "min_valid_bids": t.min_valid_bids,
                "signing_days": t.signing_days,
                "price_opening_at": None if t.price_opening_at is None else format_jalali_datetime_exact(t.price_opening_at)}
    tender.update({k: v for k, v in optional.items() if v is not None})
    commission = [{k: v for k, v in {"id": mm.id, "role": mm.role, "name": mm.name, "national_id": mm.national_id,
                                      "alternate_for": mm.alternate_for}.items() if v is not None}
                  for mm in scenario.commission]
    doc = {"price_list": {"id": scenario.price_list.id, "version": price_list_version}, "tender": tender,
           "commission": commission}
    return tomli_w.dumps(doc).encode("utf-8")
