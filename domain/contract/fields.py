"""Mandatory contract fields: everything the transparency site shows (R21, R22, R23).

People and companies are stored by their registry identifiers (national ID, company national
ID, economic code), never by typed names, so require_complete checks their formats too.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime

from domain.identity import validate_company_id, validate_economic_code, validate_national_id
from domain.persian import TEHRAN
from domain.reasons import DomainError, Reason

GENERAL = "general"
REAL_ESTATE_SALE = "real_estate_sale"
REAL_ESTATE_ACQUISITION = "real_estate_acquisition"
REAL_ESTATE_LEASE = "real_estate_lease"
REAL_ESTATE_RENT_OUT = "real_estate_rent_out"
BARTER = "barter"

REAL_ESTATE_KINDS = (REAL_ESTATE_SALE, REAL_ESTATE_ACQUISITION, REAL_ESTATE_LEASE, REAL_ESTATE_RENT_OUT)
LEASE_KINDS = (REAL_ESTATE_LEASE, REAL_ESTATE_RENT_OUT)
CONTRACT_KINDS = (GENERAL, *REAL_ESTATE_KINDS, BARTER)
BARTER_KINDS = ("property", "joint_project_shares", "hologram")
THRESHOLD_CLASSES = ("small", "medium", "large")

# field -> Persian label, in the order the transparency site shows them (R21).
COMMON_FIELDS: dict[str, str] = {
    "employer_signatories": "امضاکنندگان کارفرما",
    "commission_members": "اعضای کمیسیون معاملات",
    "contractor_national_id": "شناسهٔ ملی پیمانکار",
    "contractor_ceo": "مدیرعامل پیمانکار",
    "contractor_signatories": "امضاکنندگان پیمانکار",
    "contractor_economic_code": "کد اقتصادی پیمانکار",
    "contractor_grade": "رتبهٔ پیمانکار",
    "selection_method": "روش انتخاب پیمانکار",
    "supervisor": "ناظر",
    "contract_date": "تاریخ قرارداد",
    "contract_amount_rial": "مبلغ قرارداد",
    "subject": "موضوع قرارداد",
    "unit": "واحد",
    "threshold_class": "نصاب معامله",
    "budget_line": "ردیف بودجه",
    "expense_factor": "عامل هزینه",
}

REAL_ESTATE_FIELDS: dict[str, str] = {
    "property_type": "نوع ملک",
    "area_m2": "مساحت",
    "location": "موقعیت",
    "registration_plate": "پلاک ثبتی",
    "address": "نشانی",
    "commission_date": "تاریخ کمیسیون",
    "commission_votes": "اعضای کمیسیون و آرا",
    "expert_valuation_number": "شمارهٔ نظریهٔ کارشناس رسمی",
    "expert_valuation_date": "تاریخ نظریهٔ کارشناس رسمی",
    "expert_valuation_amount_rial": "مبلغ ارزیابی کارشناس رسمی",
    "total_amount_rial": "مبلغ کل",
    "signatories": "امضاکنندگان",
}

LEASE_FIELDS: dict[str, str] = {
    "lessor": "موجر",
    "lease_period_months": "مدت اجاره",
    "lease_start_date": "تاریخ شروع اجاره",
    "lease_end_date": "تاریخ پایان اجاره",
    "monthly_rent_rial": "اجاره‌بهای ماهانه",
    "lease_total_rial": "مبلغ کل اجاره",
}

BARTER_FIELDS: dict[str, str] = {
    "barter_kind": "نوع تهاتر",
    "counter_value_description": "شرح مابه‌ازای تهاتر",
    "valuation_amount_rial": "مبلغ ارزیابی مابه‌ازا",
}

_PERSON_LISTS = ("employer_signatories", "commission_members", "contractor_signatories", "signatories")
_PERSONS = ("contractor_ceo", "supervisor")


def required_fields(contract_kind: str) -> dict[str, str]:
    if contract_kind not in CONTRACT_KINDS:
        raise DomainError(Reason.INVALID_INPUT, f"نوع قرارداد ناشناخته: «{contract_kind}»")
    fields = dict(COMMON_FIELDS)
    if contract_kind in REAL_ESTATE_KINDS:
        fields.update(REAL_ESTATE_FIELDS)
    if contract_kind in LEASE_KINDS:
        fields.update(LEASE_FIELDS)
    if contract_kind == BARTER:
        fields.update(BARTER_FIELDS)
    return fields


def is_empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, Mapping):
        return not value or any(is_empty(v) for v in value.values())
    if isinstance(value, (list, tuple, set, frozenset)):
        return not value or any(is_empty(v) for v in value)
    return False


def missing_fields(contract_kind: str, data: Mapping[str, object]) -> list[str]:
    """Names of the mandatory fields that are absent or empty, in display order."""
    return [name for name in required_fields(contract_kind) if is_empty(data.get(name))]


def require_complete(contract_kind: str, data: Mapping[str, object]) -> None:
    """FIELD_MISSING naming every empty field; INVALID_INPUT for a malformed identifier or value."""
    missing = missing_fields(contract_kind, data)
    if missing:
        labels = required_fields(contract_kind)
        raise DomainError(Reason.FIELD_MISSING, "، ".join(f"{labels[m]} ({m})" for m in missing),
                          fields=",".join(missing))
    _check_identifiers(contract_kind, data)


def _check_identifiers(contract_kind: str, data: Mapping[str, object]) -> None:
    validate_company_id(str(data["contractor_national_id"]))
    validate_economic_code(str(data["contractor_economic_code"]))
    for name in _PERSONS:
        validate_national_id(str(data[name]))
    for name in _PERSON_LISTS:
        if name in required_fields(contract_kind):
            for nid in _as_list(data[name]):
                validate_national_id(str(nid))
    if data["threshold_class"] not in THRESHOLD_CLASSES:
        raise DomainError(Reason.INVALID_INPUT, f"نصاب معامله نامعتبر: «{data['threshold_class']}»")
    if contract_kind == BARTER and data["barter_kind"] not in BARTER_KINDS:
        raise DomainError(Reason.INVALID_INPUT, f"نوع تهاتر نامعتبر: «{data['barter_kind']}»")


def _as_list(value: object) -> Iterable[object]:
    return value if isinstance(value, (list, tuple, set, frozenset)) else [value]


def threshold_class(amount_rial: int, jalali_year: int, tables: Mapping[int, tuple[int, int]]) -> str:
    """The threshold class of an amount (int rials): small up to small_max, medium up to
    medium_max, large above; bounds inclusive. tables: Jalali year -> (small_max, medium_max), the
    policy's national thresholds.

    Raises: THRESHOLDS_NOT_CONFIGURED for a year without a table (an error, not a guess).
    Rule: R21; tender-rules.md "Transaction kinds and procedures" (threshold class)."""
    try:
        small_max, medium_max = tables[jalali_year]
    except KeyError:
        raise DomainError(Reason.THRESHOLDS_NOT_CONFIGURED, f"سال {jalali_year}") from None
    if amount_rial <= small_max:
        return "small"
    return "medium" if amount_rial <= medium_max else "large"


def publishable(contract_date: date | datetime, cutoff: date) -> bool:
    """Whether a contract concluded on that day (a date, or an aware datetime read as a Tehran day)
    may appear on the transparency site: on or after the policy's publication cutoff
    ([publication].cutoff, Shahrivar 1396).

    Raises: INVALID_INPUT for a naive datetime. Rule: R21."""
    if isinstance(contract_date, datetime):
        if contract_date.tzinfo is None:
            raise DomainError(Reason.INVALID_INPUT, "زمان قرارداد باید منطقه‌زمانی داشته باشد")
        contract_date = contract_date.astimezone(TEHRAN).date()
    return contract_date >= cutoff
