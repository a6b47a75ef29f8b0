"""OCDS 1.1.5 for real-estate transactions (R22) and barter (R23): how their fields map onto a
contract release, and validation against the core schema patched with the extensions used.

Extensions: OCDS has no real-estate, asset-sale or barter extension (searched: the OCDS extension
registry lists none; "OCDS for asset disposal/leasing" is a concept paper without a schema). The one
that fits is the official **Location** extension (`items.deliveryLocation`, `items.deliveryAddress`):
the property is the contract's item, its point and address are the item's location. Everything else
uses core fields, and what no core field or extension holds goes under the contract's `tehran`
object, as integrations.ocds does for the council's other fields (core objects do not forbid extra
properties; that is how extensions add fields).

| deal field (R22/R23) | OCDS |
|---|---|
| registration plate, property type | `contracts[0].items[0].id` (plate `main/sub/section`), `.classification` (scheme `x_tehran_property_type`) |
| area m² | `items[0].quantity` with `unit` {scheme UNCEFACT, id MTK, name m²} |
| location, address | `items[0].deliveryLocation.geometry` (GeoJSON Point [lon, lat]), `items[0].deliveryAddress` (Location extension) |
| official expert valuation number / date / amount | `contracts[0].tehran.realEstate.valuation` |
| commission date, members and votes | `contracts[0].tehran.commission` |
| total amount | `contracts[0].value` (and the award's) |
| lease period, start, end | `contracts[0].period` {startDate, endDate, durationInDays} |
| lessor, monthly rent, lease total | `contracts[0].tehran.realEstate.lease` |
| who pays whom | party roles `payer` / `payee` beside buyer and supplier (income deals: the counterparty pays) |
| barter kind, subject, counter-value valuation | `contracts[0].tehran.barter` {kind, kindLabel, subject, valuation} |
| data source (real-estate system / hand entry) | `contracts[0].tehran.realEstate.source` |
"""
from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from domain.persian import format_jalali_date
from domain.realestate.rules import parse_location
from integrations import ocds

LOCATION_EXTENSION = ("https://raw.githubusercontent.com/open-contracting-extensions/ocds_location_extension/"
                      "v1.1.5/extension.json")
EXTENSIONS = (LOCATION_EXTENSION,)
PROPERTY_TYPE_SCHEME = "x_tehran_property_type"
BARTER_KIND_LABELS = {"property": "تهاتر با ملک", "joint_project_shares": "تهاتر با سهم در پروژهٔ مشارکتی",
                      "hologram": "تهاتر با هولوگرام"}
TRANSACTION_LABELS = {"sale": "فروش", "acquisition": "تملک/خرید", "lease": "استیجار", "rent_out": "اجاره‌دادن"}
INCOME_TRANSACTIONS = ("sale", "rent_out")

# The Location extension's release-schema patch (JSON Merge Patch onto the core release schema), as the
# extension publishes it: Item gains deliveryLocation and deliveryAddress; Location is defined.
_LOCATION_PATCH: dict[str, Any] = {
    "definitions": {
        "Item": {"properties": {
            "deliveryAddress": {"title": "Delivery Address", "$ref": "#/definitions/Address"},
            "deliveryLocation": {"title": "Delivery Location", "$ref": "#/definitions/Location"},
        }},
        "Location": {
            "title": "Delivery Location", "type": "object",
            "properties": {
                "description": {"type": ["string", "null"]},
                "geometry": {"type": "object", "properties": {
                    "type": {"type": ["string", "null"],
                             "enum": ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                                      "MultiPolygon", None]},
                    "coordinates": {"type": ["array", "null"], "items": {"type": ["number", "array"]}},
                }},
                "gazetteer": {"type": "object", "properties": {
                    "scheme": {"type": ["string", "null"]},
                    "identifiers": {"type": ["array", "null"], "items": {"type": ["string"]}},
                }},
                "uri": {"type": ["string", "null"]},
            },
        },
    },
}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch (how OCDS extensions patch the release schema); null removes a key."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


@lru_cache(maxsize=1)
def extended_release_schema() -> dict[str, Any]:
    """The OCDS 1.1.5 release schema with the extensions of EXTENSIONS applied."""
    core = json.loads((ocds.SCHEMA_DIR / "release-schema.json").read_text(encoding="utf-8"))
    patched: dict[str, Any] = merge_patch(core, _LOCATION_PATCH)
    return patched


@lru_cache(maxsize=1)
def _validators() -> tuple[Draft4Validator, Draft4Validator]:
    release = extended_release_schema()
    package = json.loads((ocds.SCHEMA_DIR / "release-package-schema.json").read_text(encoding="utf-8"))
    registry: Registry = Registry().with_resource(ocds.RELEASE_SCHEMA_URL,
                                                  Resource.from_contents(release, default_specification=DRAFT4))
    return (Draft4Validator(release, format_checker=Draft4Validator.FORMAT_CHECKER),
            Draft4Validator(package, registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER))


def _messages(errors: Any) -> list[str]:
    out = []
    for err in sorted(errors, key=lambda e: list(map(str, e.absolute_path))):
        out.append(f"{'/'.join(str(p) for p in err.absolute_path) or '(root)'}: {err.message}")
    return out


def release_errors(release: dict[str, Any]) -> list[str]:
    """Errors of a release against the core schema patched with the extensions; empty when valid."""
    return _messages(_validators()[0].iter_errors(release))


def package_errors(package: dict[str, Any]) -> list[str]:
    """Errors of a release package (its releases against the extended schema); empty when valid."""
    return _messages(_validators()[1].iter_errors(package))


def deal_package(releases: list[dict[str, Any]], published_at: datetime, publisher_name: str) -> dict[str, Any]:
    """A release package of deal releases declaring the extensions they use (`extensions`).

    Raises: FIELD_MISSING for no release."""
    return {**ocds.release_package(releases, published_at, publisher_name), "extensions": list(EXTENSIONS)}


def _money(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": ocds.CURRENCY}


def _day(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _property_item(prop: dict[str, Any]) -> dict[str, Any]:
    lat, lon = parse_location(prop["location"])
    return {
        "id": prop["plate_key"],
        "description": f"{prop['property_type']} — {prop['address']}",
        "classification": {"scheme": PROPERTY_TYPE_SCHEME, "id": prop["property_type"]},
        "quantity": float(Decimal(str(prop["area_m2"]))),
        "unit": {"scheme": "UNCEFACT", "id": "MTK", "name": "متر مربع"},
        "deliveryAddress": {"streetAddress": prop["address"], "locality": "تهران", "countryName": "ایران"},
        "deliveryLocation": {"description": f"پلاک ثبتی {prop['plate_key']}",
                             "geometry": {"type": "Point", "coordinates": [float(lon), float(lat)]}},
    }


def extender(deal: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The `extend_release` hook of integrations.ocds.release_for_contract for one deal.

    `deal`: contract_type (real_estate | barter), transaction (sale | acquisition | lease | rent_out |
    None), source (real_estate_system | hand), property {plate {main, sub, section}, plate_key,
    property_type, area_m2 (decimal text), location "lat,lon", address, valuation {expert_number,
    date ISO, amount_rial}} or None, commission {date ISO, votes [{name, role, vote}]}, lease {lessor,
    months, starts ISO, ends ISO, monthly_rent_rial, total_rial} or None, barter {kind, subject,
    valuation_rial} or None. Raises: INVALID_INPUT (a malformed location)."""

    def extend(body: dict[str, Any]) -> dict[str, Any]:
        body = copy.deepcopy(body)
        contract = body["contracts"][0]
        tehran = contract["tehran"]
        tehran["contractType"] = deal["contract_type"]
        commission = deal.get("commission") or {}
        if commission:
            tehran["commission"] = {"date": commission["date"],
                                    "dateJalali": format_jalali_date(_day(commission["date"])),
                                    "votes": list(commission.get("votes") or [])}
        prop = deal.get("property")
        if prop:
            contract["items"] = [_property_item(prop)]
            v = prop.get("valuation") or {}
            tehran["realEstate"] = {
                "transaction": deal.get("transaction"),
                "transactionLabel": TRANSACTION_LABELS.get(deal.get("transaction") or "", ""),
                "source": deal["source"],
                "registrationPlate": dict(prop["plate"]),
                "propertyType": prop["property_type"],
                "areaM2": str(prop["area_m2"]),
                "valuation": {"expertNumber": v.get("expert_number"), "date": v.get("date"),
                              "value": _money(int(v.get("amount_rial") or 0))},
            }
        lease = deal.get("lease")
        if lease:
            starts, ends = _day(lease["starts"]), _day(lease["ends"])
            contract["period"] = {"startDate": ocds.iso_utc(starts), "endDate": ocds.iso_utc(ends),
                                  "durationInDays": (ends - starts).days + 1}
            tehran.setdefault("realEstate", {})["lease"] = {
                "lessor": lease["lessor"], "months": lease["months"],
                "monthlyRent": _money(lease["monthly_rent_rial"]), "total": _money(lease["total_rial"])}
        barter = deal.get("barter")
        if barter:
            tehran["barter"] = {"kind": barter["kind"], "kindLabel": BARTER_KIND_LABELS.get(barter["kind"], ""),
                                "subject": barter["subject"], "valuation": _money(barter["valuation_rial"])}
        municipality, counterparty = body["parties"][0], body["parties"][1]
        if deal["contract_type"] == "barter":
            municipality["roles"] += ["payer", "payee"]
            counterparty["roles"] += ["payer", "payee"]
        elif deal.get("transaction") in INCOME_TRANSACTIONS:
            municipality["roles"].append("payee")
            counterparty["roles"].append("payer")
        else:
            municipality["roles"].append("payer")
            counterparty["roles"].append("payee")
        return body

    return extend
