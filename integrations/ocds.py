"""OCDS 1.1.5 releases and release packages for the transparency site (R21, R24).

Schemas are the official ones copied into `integrations/ocds/` (Apache 2.0, see NOTICE.md) and
validated offline. The council's extra fields live under a `tehran` object on the contract:
the OCDS 1.1.5 Contract, Document and Release objects do not forbid additional properties, which
is how OCDS extensions add fields.

`contract_data` keys (all shown on the transparency site, so all mandatory):
contract_code, title, unit, unit_name, threshold_class (small|medium|large), selection_method
(tender|auction|online_auction|price_inquiry|direct), date_signed (aware datetime), amount_rial,
budget_line, expense_factor, contractor {national_id, name, economic_code, grade, ceo_name,
signatories [names]}, employer_signatories [{name, role}], commission_members [{name, role}],
supervisor {id, name}, documents [{title, url, sha256, format?}].
Optional: tender_id (the contracting process; defaults to the contract code), release_date,
extend_release (body -> body: adds the fields of an OCDS extension, before the release id is taken),
amendments ([{id, date (ISO text or aware datetime), rationale, amends_release_id}]: a corrected record
published again, R31; the release is then tagged `contractAmendment`).

Record packages (one record per ocid: its releases embedded and the compiled release) and the
pagination extension's `links` ({next, prev}) on a paginated release package are built here too,
so the transactions system's API serves releases that these same functions build (R21).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, TextIO

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from domain.persian import TEHRAN, format_jalali_date
from domain.reasons import DomainError, Reason

SCHEMA_DIR = Path(__file__).with_name("ocds")
RELEASE_SCHEMA_URL = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"
OCDS_VERSION = "1.1"
# Not yet registered with the Open Contracting Partnership: a real prefix replaces this one.
OCID_PREFIX = "ocds-thrnmu"
PACKAGE_URI_BASE = "https://shafaf.tehran.ir/ocds/packages"
DATA_LICENSE = "https://creativecommons.org/licenses/by/4.0/"
COMPANY_ID_SCHEME = "IR-SABTEAHVAL"  # company national ID (شناسه ملی) register
ECONOMIC_CODE_SCHEME = "IR-INTA-EC"  # tax administration economic code
CURRENCY = "IRR"

THRESHOLD_CLASSES = {"small": "کوچک", "medium": "متوسط", "large": "بزرگ"}
SELECTION_METHODS = {
    "tender": ("open", "مناقصه"),
    "auction": ("open", "مزایده"),
    "online_auction": ("open", "حراج"),
    "price_inquiry": ("limited", "استعلام بها"),
    "direct": ("direct", "ترک تشریفات"),
}


# --- schemas and validation -------------------------------------------------------------

@lru_cache(maxsize=1)
def _schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    release = json.loads((SCHEMA_DIR / "release-schema.json").read_text(encoding="utf-8"))
    package = json.loads((SCHEMA_DIR / "release-package-schema.json").read_text(encoding="utf-8"))
    return release, package


@lru_cache(maxsize=1)
def _record_package_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMA_DIR / "record-package-schema.json").read_text(encoding="utf-8"))
    return schema


@lru_cache(maxsize=1)
def _registry() -> Registry:
    release, _ = _schemas()
    return Registry().with_resource(RELEASE_SCHEMA_URL,
                                    Resource.from_contents(release, default_specification=DRAFT4))


@lru_cache(maxsize=1)
def package_validator() -> Draft4Validator:
    _, package = _schemas()
    return Draft4Validator(package, registry=_registry(), format_checker=Draft4Validator.FORMAT_CHECKER)


@lru_cache(maxsize=1)
def release_validator() -> Draft4Validator:
    release, _ = _schemas()
    return Draft4Validator(release, registry=_registry(), format_checker=Draft4Validator.FORMAT_CHECKER)


@lru_cache(maxsize=1)
def record_package_validator() -> Draft4Validator:
    return Draft4Validator(_record_package_schema(), registry=_registry(),
                           format_checker=Draft4Validator.FORMAT_CHECKER)


def _messages(errors: Iterable[Any]) -> list[str]:
    out = []
    for err in sorted(errors, key=lambda e: list(map(str, e.absolute_path))):
        where = "/".join(str(p) for p in err.absolute_path) or "(root)"
        out.append(f"{where}: {err.message}")
    return out


def package_errors(package: dict[str, Any]) -> list[str]:
    """Schema errors of a release package; empty when it is valid OCDS 1.1.5."""
    return _messages(package_validator().iter_errors(package))


def release_errors(release: dict[str, Any]) -> list[str]:
    return _messages(release_validator().iter_errors(release))


def record_package_errors(package: dict[str, Any]) -> list[str]:
    """Schema errors of a record package; empty when it is valid OCDS 1.1.5."""
    return _messages(record_package_validator().iter_errors(package))


# --- building releases ------------------------------------------------------------------

def iso_utc(value: datetime | date) -> str:
    """RFC 3339 UTC; a bare date means Tehran midnight of that day."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise DomainError(Reason.INVALID_INPUT, "زمان بدون منطقهٔ زمانی پذیرفته نیست")
        moment = value
    else:
        moment = datetime.combine(value, time(0, 0), tzinfo=TEHRAN)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _digest(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _people(items: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"name": p["name"], "role": p["role"]} for p in items]


def ocid_for(process_id: str) -> str:
    """The OCDS id of a contracting process (the tender id, or the contract code without one)."""
    return f"{OCID_PREFIX}-{process_id}"


def process_id_of(ocid: str) -> str | None:
    """The contracting process an ocid of this publisher names, or None for another prefix."""
    prefix = f"{OCID_PREFIX}-"
    rest = ocid[len(prefix):] if ocid.startswith(prefix) else ""
    return rest or None


def release_for_contract(contract_data: dict[str, Any]) -> dict[str, Any]:
    """One OCDS `contract` release for a concluded contract; its id is a digest of the content,
    so republishing unchanged data gives the same release and a change gives a new one."""
    d = contract_data
    contractor = d["contractor"]
    process_id = d.get("tender_id") or d["contract_code"]
    method, method_fa = SELECTION_METHODS.get(d["selection_method"], (None, d["selection_method"]))
    buyer = {"id": f"unit-{d['unit']}", "name": d["unit_name"]}
    supplier_id = f"{COMPANY_ID_SCHEME}-{contractor['national_id']}"
    supplier = {"id": supplier_id, "name": contractor["name"]}
    value = {"amount": d["amount_rial"], "currency": CURRENCY}
    award_id = f"{d['contract_code']}-award"
    documents = [{
        "id": f"{d['contract_code']}-doc-{i + 1}",
        "documentType": "contractSigned" if i == 0 else "contractAnnexe",
        "title": doc["title"],
        **({"url": doc["url"]} if doc.get("url") else {}),
        **({"format": doc["format"]} if doc.get("format") else {}),
        "tehran": {"sha256": doc["sha256"]},
    } for i, doc in enumerate(d["documents"])]
    body: dict[str, Any] = {
        "ocid": ocid_for(process_id),
        "tag": ["contract"],
        "initiationType": "tender",
        "language": "fa",
        "parties": [
            {**buyer, "roles": ["buyer", "procuringEntity"]},
            {**supplier,
             "identifier": {"scheme": COMPANY_ID_SCHEME, "id": contractor["national_id"],
                            "legalName": contractor["name"]},
             "additionalIdentifiers": [{"scheme": ECONOMIC_CODE_SCHEME, "id": contractor["economic_code"]}],
             "roles": ["supplier"]},
        ],
        "buyer": buyer,
        "tender": {"id": process_id, "title": d["title"], "procurementMethod": method,
                   "procurementMethodDetails": method_fa},
        "awards": [{"id": award_id, "status": "active", "suppliers": [supplier], "value": value}],
        "contracts": [{
            "id": d["contract_code"],
            "awardID": award_id,
            "title": d["title"],
            "status": "active",
            "value": value,
            "dateSigned": iso_utc(d["date_signed"]),
            "documents": documents,
            "tehran": {
                "contractCode": d["contract_code"],
                "thresholdClass": d["threshold_class"],
                "thresholdClassLabel": THRESHOLD_CLASSES.get(d["threshold_class"], d["threshold_class"]),
                "selectionMethod": d["selection_method"],
                "budgetLine": d["budget_line"],
                "expenseFactor": d["expense_factor"],
                "dateSignedJalali": format_jalali_date(d["date_signed"]),
                "commissionMembers": _people(d["commission_members"]),
                "employerSignatories": _people(d["employer_signatories"]),
                "contractorNationalId": contractor["national_id"],
                "contractorCeo": contractor["ceo_name"],
                "contractorSignatories": list(contractor["signatories"]),
                "economicCode": contractor["economic_code"],
                "grade": contractor["grade"],
                "supervisor": {"id": d["supervisor"]["id"], "name": d["supervisor"]["name"]},
            },
        }],
    }
    amendments = d.get("amendments")  # a corrected record published again (R31): OCDS amendments
    if amendments:
        body["tag"] = ["contractAmendment"]
        body["contracts"][0]["amendments"] = [{
            "id": a["id"], "date": a["date"] if isinstance(a["date"], str) else iso_utc(a["date"]),
            "rationale": a["rationale"], "amendsReleaseID": a["amends_release_id"],
        } for a in amendments]
    extend = d.get("extend_release")  # kinds published with OCDS extensions: integrations.ocds_realestate
    if extend is not None:
        body = extend(body)
    release_id = f"{d['contract_code']}-{_digest(body)[:16]}"
    when = d.get("release_date") or d["date_signed"]
    return {"ocid": body["ocid"], "id": release_id, "date": iso_utc(when), **body}


# --- packages ---------------------------------------------------------------------------

def _package_header(published_at: datetime, publisher_name: str, uri: str | None,
                    key: str) -> dict[str, Any]:
    return {
        "uri": uri or f"{PACKAGE_URI_BASE}/{key}",
        "version": OCDS_VERSION,
        "publishedDate": iso_utc(published_at),
        "publisher": {"name": publisher_name},
        "license": DATA_LICENSE,
    }


def release_package(releases: list[dict[str, Any]], published_at: datetime, publisher_name: str,
                    uri: str | None = None, links: dict[str, str] | None = None) -> dict[str, Any]:
    """A release package; `links` ({"next": url, "prev": url}, either may be absent) is the OCDS
    pagination extension's object on one page of a longer list.

    Raises: FIELD_MISSING for no release (the schema asks for at least one)."""
    if not releases:
        raise DomainError(Reason.FIELD_MISSING, "releases: بستهٔ انتشار بدون انتشار معنا ندارد")
    key = _digest([r["id"] for r in releases])[:16]
    package = {**_package_header(published_at, publisher_name, uri, key), "releases": list(releases)}
    if links:
        package["links"] = dict(links)
    return package


_RELEASE_OWN_FIELDS = frozenset({"id", "date", "tag", "ocid"})


def _merge(old: Any, new: Any) -> Any:
    if isinstance(old, dict) and isinstance(new, dict):
        out = dict(old)
        for key, value in new.items():
            if value is None:
                out.pop(key, None)  # an explicit null removes the field (OCDS merge)
            else:
                out[key] = _merge(out.get(key), value)
        return out
    if (isinstance(old, list) and isinstance(new, list) and new
            and all(isinstance(x, dict) and "id" in x for x in old + new)):
        merged = {str(x["id"]): x for x in old}
        for item in new:
            key = str(item["id"])
            merged[key] = _merge(merged.get(key), item)
        return list(merged.values())
    return new


def compiled_release(releases: list[dict[str, Any]]) -> dict[str, Any]:
    """The compiled release of one contracting process: its releases merged in date order (objects
    field by field, arrays of objects with an `id` by id, anything else replaced by the newer value),
    tagged `compiled`, with the newest release's date and the id `{ocid}-{date}` (the OCDS merge
    routine's convention).

    Raises: FIELD_MISSING for no release; INVALID_INPUT for releases of different ocids."""
    if not releases:
        raise DomainError(Reason.FIELD_MISSING, "releases: رکورد بدون انتشار معنا ندارد")
    ocids = {r["ocid"] for r in releases}
    if len(ocids) != 1:
        raise DomainError(Reason.INVALID_INPUT, "انتشارهای یک رکورد باید یک ocid داشته باشند")
    ordered = sorted(releases, key=lambda r: r["date"])
    body: dict[str, Any] = {}
    for release in ordered:
        body = _merge(body, {k: v for k, v in release.items() if k not in _RELEASE_OWN_FIELDS})
    ocid, date_ = ordered[-1]["ocid"], ordered[-1]["date"]
    return {"ocid": ocid, "id": f"{ocid}-{date_}", "date": date_, "tag": ["compiled"], **body}


def record_package(releases: list[dict[str, Any]], published_at: datetime, publisher_name: str,
                   uri: str | None = None, packages: Iterable[str] = ()) -> dict[str, Any]:
    """A record package with one record per ocid of `releases`: the releases embedded, in date
    order, and their compiled release. `packages` are the URIs of the release packages the
    releases were published in (omitted when empty).

    Raises: FIELD_MISSING for no release."""
    if not releases:
        raise DomainError(Reason.FIELD_MISSING, "releases: بستهٔ رکورد بدون انتشار معنا ندارد")
    by_ocid: dict[str, list[dict[str, Any]]] = {}
    for release in releases:
        by_ocid.setdefault(release["ocid"], []).append(release)
    records: list[dict[str, Any]] = [{"ocid": ocid, "releases": sorted(group, key=lambda r: r["date"]),
                                      "compiledRelease": compiled_release(group)} for ocid, group in by_ocid.items()]
    key = _digest([r["id"] for r in releases])[:16]
    package: dict[str, Any] = _package_header(published_at, publisher_name, uri, f"records-{key}")
    links = list(dict.fromkeys(packages))
    if links:
        package["packages"] = links
    package["records"] = records
    return package


class ReleaseSource(Protocol):
    """Where the transparency site reads published releases from: the transactions system
    (integrations.transactions_http.HttpTransactionsSystem over its API; R21)."""

    def release_package(self, ocid: str) -> dict[str, Any] | None:
        """The release package of one contracting process, or None when nothing is published for it."""
        ...

    def releases(self) -> Iterator[dict[str, Any]]:
        """Every published release, page after page."""
        ...


def write_package(out: TextIO, releases: Iterable[dict[str, Any]], published_at: datetime,
                  publisher_name: str, uri: str | None = None, validate: bool = True) -> int:
    """Write a release package one release at a time, so memory does not grow with its size.

    The header is checked against the package schema with the first release; every release is
    checked against the release schema. Returns the number of releases written.
    """
    header = _package_header(published_at, publisher_name, uri,
                             f"{published_at.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}")
    count = 0
    for release in releases:
        if validate:
            errors = (package_errors({**header, "releases": [release]}) if count == 0
                      else release_errors(release))
            if errors:
                raise DomainError(Reason.INVALID_INPUT, f"release {count}: " + "; ".join(errors[:5]))
        if count == 0:
            out.write(json.dumps(header, ensure_ascii=False)[:-1])
            out.write(', "releases": [\n')
        else:
            out.write(",\n")
        out.write(json.dumps(release, ensure_ascii=False))
        count += 1
    if count == 0:
        raise DomainError(Reason.FIELD_MISSING, "releases: بستهٔ انتشار بدون انتشار معنا ندارد")
    out.write("\n]}\n")
    return count
