"""The municipality's real-estate system (سامانهٔ املاک; R22, R28): the property file the
transactions system fetches a deal's property data from, by registration plate, instead of anyone
typing it again; it records each concluded deal against the property."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True)
class Valuation:
    """The official expert's valuation (نظریهٔ کارشناس رسمی): number, Gregorian date, amount (int rials)."""

    expert_number: str
    date: date
    amount_rial: int


@dataclass(frozen=True)
class PropertyRecord:
    """A property as the real-estate system files it: plate `main/sub/section`, type, area (m²),
    location `"lat,lon"` (WGS84), address, and its latest official valuation (None when it has none)."""

    plate_key: str
    property_type: str
    area_m2: Decimal
    location: str
    address: str
    valuation: Valuation | None

    def to_dict(self) -> dict[str, Any]:
        v = self.valuation
        return {"plate_key": self.plate_key, "property_type": self.property_type, "area_m2": str(self.area_m2),
                "location": self.location, "address": self.address,
                "valuation": None if v is None else {"expert_number": v.expert_number, "date": v.date.isoformat(),
                                                     "amount_rial": v.amount_rial}}


class RealEstateSystem(Protocol):
    def property(self, plate_key: str) -> PropertyRecord:
        """The property filed under the plate `main/sub/section`.

        Raises: NOT_FOUND (no such plate), STORE_UNREACHABLE."""
        ...

    def record_deal(self, contract_code: str, plate_key: str, transaction: str, at: datetime) -> None:
        """Record a concluded deal (its contract code) against the property; idempotent per code.

        Raises: NOT_FOUND (plate), NO_CONTRACT_CODE / INVALID_INPUT (malformed code, a property
        already sold, a code recorded for another property)."""
        ...
