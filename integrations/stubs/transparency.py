"""Transparency-publisher stub (R21, R24, R25).

Publishes nothing incomplete: every field the site shows must be present (FIELD_MISSING lists
them all), identifiers must be well formed and, when a contractor registry is attached, equal to
the registry's; attached files must match their recorded hash. Contracts concluded before the
policy's publication cutoff ([publication].cutoff, 1396/06/05) are never published: they are
reported as skipped (domain.contract.fields.publishable).

Releases reach the site two ways: pushed in-process (`publish`, the pilot's path) or read from the
transactions system's API (`fetch`, over integrations.transactions_http: R21, the site reads from
the transactions system directly); both store the release as built by integrations.ocds.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from domain.clock import Clock
from domain.contract.fields import publishable
from domain.identity import validate_company_id, validate_economic_code
from domain.persian import format_jalali_date, normalize
from domain.reasons import DomainError, Reason
from integrations import ocds
from integrations.contractor_registry import ContractorRegistry
from integrations.stubs._db import StubSystem, canonical_json, inserted, is_blank, sha256_hex
from integrations.transparency import PublishResult
from store.stub_tables import ExtTpDocument, ExtTpRelease, ExtTpSkipped

_TOP_FIELDS = ("contract_code", "title", "unit", "unit_name", "threshold_class", "selection_method",
               "date_signed", "amount_rial", "budget_line", "expense_factor", "contractor",
               "employer_signatories", "commission_members", "supervisor", "documents")
_CONTRACTOR_FIELDS = ("national_id", "name", "economic_code", "grade", "ceo_name", "signatories")
_PERSON_FIELDS = ("name", "role")
_SUPERVISOR_FIELDS = ("id", "name")
_DOCUMENT_FIELDS = ("title", "url", "sha256")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

_PROJECT_FIELDS = ("project_code", "title", "unit", "physical_progress_pct", "planned_progress_pct",
                   "start_date", "planned_end_date", "credits_rial", "commitments_rial",
                   "statements_total_rial", "costs_rial", "contracts")
_PROJECT_CONTRACT_FIELDS = ("contract_code", "title", "amount_rial", "contractor_company_id")


def missing_fields(contract_data: dict[str, Any]) -> list[str]:
    """Dotted paths of every shown field that is empty (the scenario report's missing_fields)."""
    missing = [f for f in _TOP_FIELDS if is_blank(contract_data.get(f))]
    amount = contract_data.get("amount_rial")
    if "amount_rial" not in missing and (not isinstance(amount, int) or amount <= 0):
        missing.append("amount_rial")
    contractor = contract_data.get("contractor")
    if isinstance(contractor, dict):
        missing += [f"contractor.{f}" for f in _CONTRACTOR_FIELDS if is_blank(contractor.get(f))]
        signatories = contractor.get("signatories") or []
        missing += [f"contractor.signatories[{i}]" for i, s in enumerate(signatories) if is_blank(s)]
    supervisor = contract_data.get("supervisor")
    if isinstance(supervisor, dict):
        missing += [f"supervisor.{f}" for f in _SUPERVISOR_FIELDS if is_blank(supervisor.get(f))]
    for group, fields in (("employer_signatories", _PERSON_FIELDS), ("commission_members", _PERSON_FIELDS),
                          ("documents", _DOCUMENT_FIELDS)):
        for i, item in enumerate(contract_data.get(group) or []):
            missing += [f"{group}[{i}].{f}" for f in fields if is_blank((item or {}).get(f))]
    return missing


def _norm(value: object) -> object:
    return normalize(value) if isinstance(value, str) else value


class TransparencyPublisherStub(StubSystem):
    """publication_cutoff and publisher_name are the policy's [publication] cutoff and publisher."""

    def __init__(self, engine: Engine, clock: Clock, *, publication_cutoff: date, publisher_name: str,
                 registry: ContractorRegistry | None = None) -> None:
        super().__init__(engine, clock)
        self._registry = registry
        self._cutoff = publication_cutoff
        self._publisher_name = publisher_name

    # --- contracts (R21) ----------------------------------------------------------------

    def publish(self, contract_data: dict[str, Any]) -> PublishResult:
        code = str(contract_data.get("contract_code") or "")
        signed = contract_data.get("date_signed")
        if is_blank(signed):
            raise DomainError(Reason.FIELD_MISSING, ", ".join(missing_fields(contract_data)))
        if not isinstance(signed, (datetime, date)) or (isinstance(signed, datetime) and signed.tzinfo is None):
            raise DomainError(Reason.INVALID_INPUT, "date_signed: زمان آگاه به منطقهٔ زمانی لازم است")
        if not publishable(signed, self._cutoff):
            return self._skip(code)
        missing = missing_fields(contract_data)
        if missing:
            raise DomainError(Reason.FIELD_MISSING, ", ".join(missing))
        self._check_values(contract_data)

        release = ocds.release_for_contract({**contract_data, "release_date": self._clock.now()})
        errors = ocds.release_errors(release)
        if errors:
            raise DomainError(Reason.INVALID_INPUT, "; ".join(errors[:5]))
        with self._sessions() as session:
            if not inserted(session, ExtTpRelease(release_id=release["id"], ocid=release["ocid"], contract_code=code,
                                                  release_json=json.dumps(release, ensure_ascii=False),
                                                  published_at=self._clock.now())):
                # Same content published before: its release id is a digest.
                return PublishResult("published", code, release["ocid"], release["id"], already_published=True)
        return PublishResult("published", code, release["ocid"], release["id"])

    def _skip(self, code: str) -> PublishResult:
        reason = f"قرارداد پیش از {format_jalali_date(self._cutoff)} منعقد شده و منتشر نمی‌شود"
        with self._sessions() as session:
            inserted(session, ExtTpSkipped(contract_code=code, reason=reason, recorded_at=self._clock.now()))
        return PublishResult("skipped", code, reason=reason)

    def _check_values(self, d: dict[str, Any]) -> None:
        if d["threshold_class"] not in ocds.THRESHOLD_CLASSES:
            raise DomainError(Reason.INVALID_INPUT, f"threshold_class: {d['threshold_class']!r}")
        if d["selection_method"] not in ocds.SELECTION_METHODS:
            raise DomainError(Reason.INVALID_INPUT, f"selection_method: {d['selection_method']!r}")
        contractor = d["contractor"]
        national_id = validate_company_id(contractor["national_id"])
        validate_economic_code(contractor["economic_code"])
        for i, doc in enumerate(d["documents"]):
            if not _SHA256.match(str(doc["sha256"])):
                raise DomainError(Reason.INVALID_INPUT, f"documents[{i}].sha256 چکیدهٔ SHA-256 نیست")
            content = doc.get("content")
            if content is not None and sha256_hex(content) != doc["sha256"]:
                raise DomainError(Reason.INVALID_INPUT, f"documents[{i}]: پرونده با چکیدهٔ ثبت‌شده مطابقت ندارد")
        if self._registry is None:
            return
        # Names and identifiers come from the registry, never typed by hand.
        company = self._registry.company(national_id)
        if company is None:
            raise DomainError(Reason.INVALID_INPUT, f"پیمانکار {national_id} در فهرست پیمانکاران نیست")
        differing = [f for f, registered in (("name", company.name), ("economic_code", company.economic_code),
                                             ("grade", company.grade), ("ceo_name", company.ceo_name))
                     if _norm(contractor[f]) != registered]
        if differing:
            raise DomainError(Reason.INVALID_INPUT,
                              "با فهرست پیمانکاران یکسان نیست: " + ", ".join(f"contractor.{f}" for f in differing))

    def fetch(self, source: ocds.ReleaseSource, ocid: str | None = None) -> list[str]:
        """Read published releases from the transactions system (R21: the site reads from it
        directly): the release package of `ocid`, or every page of the release list. Each package
        is checked against the official package schema and each new release stored as received
        (a release already held, same id, is kept once). Returns the ids of the releases read.

        Raises: NOT_FOUND when nothing is published under `ocid`; INVALID_INPUT for a package that
        is not valid OCDS 1.1.5; STORE_UNREACHABLE when the transactions system cannot be read."""
        if ocid is not None:
            package = source.release_package(ocid)
            if package is None:
                raise DomainError(Reason.NOT_FOUND, f"برای «{ocid}» انتشاری در سامانهٔ معاملات نیست")
            errors = ocds.package_errors(package)
            if errors:
                raise DomainError(Reason.INVALID_INPUT, "; ".join(errors[:5]))
            releases: Iterable[dict[str, Any]] = package["releases"]
        else:
            releases = source.releases()
        ids = []
        for release in releases:
            if ocid is None:
                errors = ocds.release_errors(release)
                if errors:
                    raise DomainError(Reason.INVALID_INPUT, f"{release.get('id')}: " + "; ".join(errors[:5]))
            contract = (release.get("contracts") or [{}])[0]
            code = str((contract.get("tehran") or {}).get("contractCode") or contract.get("id") or "")
            with self._sessions() as session:
                inserted(session, ExtTpRelease(release_id=release["id"], ocid=release["ocid"], contract_code=code,
                                               release_json=json.dumps(release, ensure_ascii=False),
                                               published_at=self._clock.now()))
            ids.append(release["id"])
        return ids

    def skipped(self) -> list[str]:
        with self._sessions() as session:
            return list(session.scalars(select(ExtTpSkipped.contract_code).order_by(ExtTpSkipped.id)))

    # --- packages -----------------------------------------------------------------------

    def releases(self) -> Iterator[dict[str, Any]]:
        """Stored releases, streamed from the database in batches."""
        with self._sessions() as session:
            rows = session.execute(select(ExtTpRelease.release_json).order_by(ExtTpRelease.id)
                                   .execution_options(yield_per=500))
            for (text,) in rows:
                yield json.loads(text)

    def package(self) -> dict[str, Any]:
        return ocds.release_package(list(self.releases()), self._clock.now(), self._publisher_name)

    def export_package(self, path: str | Path, releases: Iterable[dict[str, Any]] | None = None,
                       validate: bool = True) -> int:
        """Write a release package to `path` incrementally; the file appears only when complete.

        Without `releases`, exports every stored release. `validate=False` skips the per-release
        schema check (about 0.2 ms each) for releases that were validated when published."""
        target = Path(path)
        source = self.releases() if releases is None else releases
        fd, tmp = tempfile.mkstemp(prefix=".ocds-", suffix=".json", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                count = ocds.write_package(out, source, self._clock.now(), self._publisher_name,
                                           validate=validate)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return count

    # --- lists (R24, R25) ---------------------------------------------------------------

    def publish_contractor_lists(self, lists: dict[str, Any]) -> dict[str, Any]:
        """The registry's contractor list with qualification decisions and the blacklist."""
        missing = [k for k in ("as_of", "contractors", "blacklist") if k not in lists]
        for i, c in enumerate(lists.get("contractors") or []):
            missing += [f"contractors[{i}].{f}" for f in ("national_id", "name") if is_blank(c.get(f))]
            for j, q in enumerate(c.get("qualifications") or []):
                missing += [f"contractors[{i}].qualifications[{j}].{f}"
                            for f in ("work_field", "decision", "reason", "decided_on") if is_blank(q.get(f))]
        for i, b in enumerate(lists.get("blacklist") or []):
            missing += [f"blacklist[{i}].{f}" for f in ("national_id", "name", "start_date", "reason")
                        if is_blank(b.get(f))]
        if missing:
            raise DomainError(Reason.FIELD_MISSING, ", ".join(missing))
        return self._store_document("contractors", lists)

    def publish_project_figures(self, figures: list[dict[str, Any]]) -> dict[str, Any]:
        """Construction projects' figures from project control (R24)."""
        missing = []
        for i, p in enumerate(figures):
            missing += [f"projects[{i}].{f}" for f in _PROJECT_FIELDS if f not in p or
                        (f != "contracts" and is_blank(p[f]))]
            for j, c in enumerate(p.get("contracts") or []):
                missing += [f"projects[{i}].contracts[{j}].{f}" for f in _PROJECT_CONTRACT_FIELDS
                            if is_blank(c.get(f))]
        if missing:
            raise DomainError(Reason.FIELD_MISSING, ", ".join(missing))
        return self._store_document("projects", {"projects": figures})

    def latest_document(self, kind: str) -> dict[str, Any] | None:
        with self._sessions() as session:
            row = session.scalar(select(ExtTpDocument).where(ExtTpDocument.kind == kind)
                                 .order_by(ExtTpDocument.id.desc()).limit(1))
            return json.loads(row.body_json) if row else None

    def _store_document(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        now = self._clock.now()
        document = {"kind": kind, "published_at": ocds.iso_utc(now), **body}
        text = canonical_json(document)
        with self._sessions() as session:
            session.add(ExtTpDocument(kind=kind, body_json=text, sha256=sha256_hex(text), published_at=now))
            session.commit()
        return json.loads(text)
