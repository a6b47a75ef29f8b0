"""Real-estate transactions (R22: sale, acquisition, lease, rent-out) and barter (R23: against
property, against shares in joint projects, with holograms) as contracts with their own fields.

The fields themselves are listed once, in domain.contract.fields (REAL_ESTATE_FIELDS, LEASE_FIELDS,
BARTER_FIELDS); this module holds what is particular to these deals: which contract kind a deal is,
where its property data may come from (the real-estate system, or by hand for a district deal under
100 m²), the review's completeness gate, the lease arithmetic, and the public dotted names of the
fields (scenario-format.md "More transaction kinds": `publication.missing_fields`)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import jdatetime

from domain.contract.fields import (
    BARTER,
    BARTER_FIELDS,
    BARTER_KINDS,
    LEASE_FIELDS,
    LEASE_KINDS,
    REAL_ESTATE_ACQUISITION,
    REAL_ESTATE_FIELDS,
    REAL_ESTATE_KINDS,
    REAL_ESTATE_LEASE,
    REAL_ESTATE_RENT_OUT,
    REAL_ESTATE_SALE,
    is_empty,
    required_fields,
)
from domain.reasons import DomainError, Reason

# tender-rules.md "Transaction kinds and procedures": "A district deal under 100 m² is entered by hand
# in its unit". A rule of the regulation (not marked **default**), so it is not a policy setting.
HAND_ENTRY_MAX_AREA_M2 = Decimal(100)
HAND_ENTRY_UNIT_KIND = "district"

SOURCE_HAND = "hand"                      # typed in the unit (district deals under 100 m² only)
SOURCE_SYSTEM = "real_estate_system"      # fetched from the real-estate system by registration plate
SOURCES = (SOURCE_HAND, SOURCE_SYSTEM)

CONTRACT_TYPES = ("real_estate", "barter")
TRANSACTIONS: dict[str, str] = {
    "sale": REAL_ESTATE_SALE,
    "acquisition": REAL_ESTATE_ACQUISITION,
    "lease": REAL_ESTATE_LEASE,        # the municipality leases a property in (it pays the rent)
    "rent_out": REAL_ESTATE_RENT_OUT,  # the municipality rents its property out (it receives the rent)
}
PROPERTY_TYPES = ("residential", "commercial", "office", "industrial", "land", "public_service")

# Domain field -> its dotted key in the scenario file and report (scenario-format.md). Fields the
# engine derives (commission, lease end and total, lessor) are named where they come from.
PUBLIC_KEYS: dict[str, str] = {
    "property_type": "real_estate.property_type",
    "area_m2": "real_estate.area_m2",
    "location": "real_estate.location",
    "registration_plate": "real_estate.plate",
    "address": "real_estate.address",
    "commission_date": "commission.date",
    "commission_votes": "commission.votes",
    "expert_valuation_number": "real_estate.valuation.expert_number",
    "expert_valuation_date": "real_estate.valuation.date",
    "expert_valuation_amount_rial": "real_estate.valuation.amount_rial",
    "total_amount_rial": "contract.amount_rial",
    "signatories": "contract.signatories",
    "lessor": "real_estate.lease.lessor",
    "lease_period_months": "real_estate.lease.months",
    "lease_start_date": "real_estate.lease.starts",
    "lease_end_date": "real_estate.lease.ends",
    "monthly_rent_rial": "real_estate.lease.monthly_rent_rial",
    "lease_total_rial": "real_estate.lease.total_rial",
    "barter_kind": "barter.kind",
    "counter_value_description": "barter.subject",
    "valuation_amount_rial": "barter.valuation_rial",
}


@dataclass(frozen=True)
class Plate:
    """A registration plate (پلاک ثبتی): main and sub numbers and the registration section."""

    main: str
    sub: str
    section: str

    @property
    def key(self) -> str:
        """The plate as one text, `main/sub/section` (how the real-estate system files it)."""
        return f"{self.main}/{self.sub}/{self.section}"


def contract_kind(contract_type: str, transaction: str | None = None) -> str:
    """The contract kind of domain.contract.fields for a deal: `real_estate` with its transaction
    (sale | acquisition | lease | rent_out), or `barter`.

    Raises: INVALID_INPUT for another type or transaction. Rule: R22, R23."""
    if contract_type == "barter":
        return BARTER
    if contract_type == "real_estate" and transaction in TRANSACTIONS:
        return TRANSACTIONS[transaction]
    raise DomainError(Reason.INVALID_INPUT, f"نوع معامله نامعتبر: «{contract_type}» / «{transaction}»")


def check_plate(main: object, sub: object, section: object) -> Plate:
    """A plate whose three parts are present (blank parts are left to the completeness checks).

    Raises: INVALID_INPUT for a part that is not text or a number. Rule: R22."""
    parts = []
    for name, value in (("main", main), ("sub", sub), ("section", section)):
        if value is None:
            value = ""
        if not isinstance(value, (str, int)):
            raise DomainError(Reason.INVALID_INPUT, f"پلاک ثبتی: بخش «{name}» نامعتبر است")
        parts.append(str(value).strip())
    return Plate(*parts)


def parse_location(text: str) -> tuple[Decimal, Decimal]:
    """`"lat,lon"` in decimal degrees (WGS84) -> (latitude, longitude).

    Raises: INVALID_INPUT for anything else or a point outside the ranges. Rule: R22 (location)."""
    try:
        lat_s, lon_s = (p.strip() for p in str(text).split(","))
        lat, lon = Decimal(lat_s), Decimal(lon_s)
    except (ValueError, InvalidOperation):
        raise DomainError(Reason.INVALID_INPUT, f"موقعیت باید «عرض,طول» باشد: «{text}»") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise DomainError(Reason.INVALID_INPUT, f"موقعیت خارج از محدوده: «{text}»")
    return lat, lon


def check_entry_source(source: str, unit_kind: str, area_m2: Decimal) -> None:
    """Whether the property's data may come from `source`: the real-estate system always; by hand
    only for a district unit's deal under 100 m² (area in m², exclusive bound).

    Raises: HAND_ENTRY_NOT_ALLOWED (hand entry elsewhere), INVALID_INPUT (unknown source).
    Rule: R22, R28; tender-rules.md "Transaction kinds and procedures" (district deal under 100 m²)."""
    if source == SOURCE_SYSTEM:
        return
    if source != SOURCE_HAND:
        raise DomainError(Reason.INVALID_INPUT, f"منبع اطلاعات ملک ناشناخته: «{source}»")
    if unit_kind != HAND_ENTRY_UNIT_KIND:
        raise DomainError(Reason.HAND_ENTRY_NOT_ALLOWED, f"واحد از نوع «{unit_kind}» است، نه منطقه")
    if area_m2 >= HAND_ENTRY_MAX_AREA_M2:
        raise DomainError(Reason.HAND_ENTRY_NOT_ALLOWED, f"مساحت {area_m2} مترمربع است")


def entry_source_for(unit_kind: str, area_m2: Decimal) -> str:
    """Where a deal's property data comes from: by hand for a district deal under 100 m², otherwise
    the real-estate system (never typed twice). Raises nothing. Rule: R22, R28."""
    if unit_kind == HAND_ENTRY_UNIT_KIND and area_m2 < HAND_ENTRY_MAX_AREA_M2:
        return SOURCE_HAND
    return SOURCE_SYSTEM


def deal_fields(kind: str) -> dict[str, str]:
    """The fields of the deal's own kind (beyond the common contract fields), field -> Persian label.

    Raises: INVALID_INPUT for a kind that is not a real-estate or barter kind. Rule: R22, R23."""
    if kind not in (*REAL_ESTATE_KINDS, BARTER):
        raise DomainError(Reason.INVALID_INPUT, f"نوع قرارداد «{kind}» معاملهٔ ملکی یا تهاتری نیست")
    own = dict(REAL_ESTATE_FIELDS) if kind in REAL_ESTATE_KINDS else {}
    if kind in LEASE_KINDS:
        own.update(LEASE_FIELDS)
    if kind == BARTER:
        own.update(BARTER_FIELDS)
    return {name: label for name, label in required_fields(kind).items() if name in own}


def public_key(field: str) -> str:
    """The dotted public name of a contract field (`contract.<field>` for the common ones)."""
    return PUBLIC_KEYS.get(field, f"contract.{field}")


def missing_public(kind: str, fields: Mapping[str, object], names: list[str] | None = None) -> list[str]:
    """Dotted public names of the mandatory fields of `kind` that are empty (all of them, or only
    `names`), in display order. Raises: INVALID_INPUT (unknown kind). Rule: R21, R22, R23."""
    wanted = list(required_fields(kind)) if names is None else names
    return [public_key(n) for n in wanted if is_empty(fields.get(n))]


def require_reviewable(kind: str, fields: Mapping[str, object]) -> None:
    """The review's gate: a deal whose own fields (R22 / R23, the lease's for leases) are incomplete
    goes no further in its workflow; the barter kind must be one the minutes define.

    Raises: FIELD_MISSING naming every empty field by its dotted public name (in `fields`),
    INVALID_INPUT (unknown kind or barter kind). Rule: R22, R23."""
    own = deal_fields(kind)
    missing = [n for n in own if is_empty(fields.get(n))]
    if missing:
        keys = [public_key(n) for n in missing]
        raise DomainError(Reason.FIELD_MISSING, "، ".join(f"{own[n]} ({k})" for n, k in zip(missing, keys)),
                          fields=",".join(keys))
    if kind == BARTER and fields.get("barter_kind") not in BARTER_KINDS:
        raise DomainError(Reason.INVALID_INPUT, f"نوع تهاتر نامعتبر: «{fields.get('barter_kind')}»")


def lease_end(starts: date, months: int) -> date:
    """The last day of a lease of `months` Jalali months from `starts` (Gregorian date in, out):
    the day before the same Jalali day `months` later (clamped to the month's last day).

    Raises: INVALID_INPUT for months < 1. Rule: R22 (lease start and end dates)."""
    if months < 1:
        raise DomainError(Reason.INVALID_INPUT, "مدت اجاره باید دست‌کم یک ماه باشد")
    j = jdatetime.date.fromgregorian(date=starts)
    index = j.year * 12 + (j.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = 31 if month <= 6 else 30 if month <= 11 else (30 if jdatetime.date(year, 1, 1).isleap() else 29)
    end = jdatetime.date(year, month, min(j.day, last)).togregorian()
    return end - timedelta(days=1)


def lease_total_rial(months: int, monthly_rent_rial: int) -> int:
    """The lease's total rent (int rials): months × monthly rent. Raises: INVALID_INPUT for
    non-positive figures. Rule: R22 (lease total)."""
    if months < 1 or monthly_rent_rial <= 0:
        raise DomainError(Reason.INVALID_INPUT, "مدت و اجاره‌بهای ماهانه باید مثبت باشند")
    return months * monthly_rent_rial
