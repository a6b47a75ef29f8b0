"""Publishing a final contract on the transparency site (R21) and registering it in project control
(R14): both fetch by contract code; every outcome is kept on the contract and audited."""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.contract.workflow import FINAL
from domain.reasons import DomainError, Reason
from integrations import ocds_income
from integrations.project_control import ProjectControlSystem
from integrations.stubs.transparency import missing_fields
from integrations.transparency import TransparencyPublisher
from services import tender as tender_svc
from services.contract.document import STAGE_DOCS, contract_for, data_of, signed_xml
from services.deps import Deps
from store.uow import record_refusal

ENGINE_ACTOR = "engine"


def publication_data(deps: Deps, tender_id: str) -> dict[str, Any]:
    """What the transparency site shows, names and identifiers taken from the registries.

    Raises: INVALID_INPUT (unknown tender, or no contract registered for it)."""
    view = tender_svc.load(deps, tender_id)
    roles = {mm.national_id: mm.role.value for mm in view.members}
    with deps.uow() as uow:
        row = contract_for(uow, tender_id)
        data = data_of(row)
        f = data["fields"]
        unit = uow.units.get(row.unit_id)
        company = uow.companies.get(row.contractor_id)

        def name(nid: str | None) -> str:
            person = uow.people.get(nid) if nid else None
            return person.full_name if person else ""

        xml = signed_xml(row)
        documents = []
        if xml:
            documents.append({"title": f"قرارداد امضاشده {row.code}", "url": f"eproc://contracts/{row.code}/contract.xml",
                              "sha256": hashlib.sha256(xml).hexdigest(), "format": "application/xml",
                              "content": xml})
        # Approved at the stations (issue 13): each stage's document as its approver signed it.
        for stage_doc in data.get(STAGE_DOCS) or []:
            signed = base64.b64decode(stage_doc["xml_b64"])
            file = f"{stage_doc['stage']}-{stage_doc['role']}"
            documents.append({"title": f"امضای مرحلهٔ {stage_doc['stage']} قرارداد {row.code} ({stage_doc['role']})",
                              "url": f"eproc://contracts/{row.code}/stages/{file}.xml",
                              "sha256": hashlib.sha256(signed).hexdigest(), "format": "application/xml",
                              "content": signed})
        published: dict[str, Any] = {
            "contract_code": row.code, "tender_id": tender_id, "title": f.get("subject"), "unit": row.unit_id,
            "unit_name": unit.name, "threshold_class": row.threshold_class,
            "selection_method": f.get("selection_method"), "date_signed": row.concluded_at,
            "amount_rial": row.amount_rial, "budget_line": row.budget_line or "",
            "expense_factor": row.expense_factor or "",
            "contractor": {"national_id": company.national_id if company else "", "name": company.name if company else "",
                           "economic_code": company.economic_code if company else "",
                           "grade": company.grade if company else None,
                           "ceo_name": name(f.get("contractor_ceo")),
                           "signatories": [name(n) for n in f.get("contractor_signatories") or []]},
            "employer_signatories": [{"name": name(n), "role": roles.get(n, "chair")}
                                     for n in f.get("employer_signatories") or []],
            "commission_members": [{"name": name(n), "role": roles.get(n, "")} for n in f.get("commission_members") or []],
            "supervisor": {"id": f.get("supervisor"), "name": name(f.get("supervisor"))},
            "documents": documents,
        }
    if data.get("nature") == "income":  # R30: the municipality is paid; the lease's term and schedule
        published["extend_release"] = ocds_income.extender(data["income"])
    return published


@dataclass(frozen=True)
class PublicationOutcome:
    """What the transparency site answered: `status` (published | refused | not_final), the release
    and OCDS ids, the R21 fields the contract still lacks, and the reason code of a refusal."""

    status: str
    release_id: str | None = None
    ocid: str | None = None
    missing_fields: tuple[str, ...] = ()
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "release_id": self.release_id, "ocid": self.ocid,
                "missing_fields": list(self.missing_fields), "reason": self.reason}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PublicationOutcome:
        return cls(d["status"], d.get("release_id"), d.get("ocid"), tuple(d.get("missing_fields") or ()),
                   d.get("reason"))


def publish_contract(deps: Deps, tender_id: str, publisher: TransparencyPublisher) -> PublicationOutcome:
    """Publish a final contract once (R21); the outcome (and any missing field) is kept on the
    contract and audited, and a rerun returns the stored outcome. A publisher's refusal is an
    outcome (`status="refused"`, its reason code), not an exception."""
    with deps.uow() as uow:
        row = uow.contracts.for_tender(tender_id)
    if row is None or row.stage != FINAL:
        return PublicationOutcome("not_final")
    stored = data_of(row).get("publication")
    if stored is not None:
        return PublicationOutcome.from_dict(stored)
    contract_data = publication_data(deps, tender_id)
    missing = tuple(missing_fields(contract_data))
    now = deps.clock.now()
    try:
        result = publisher.publish(contract_data)
        outcome = PublicationOutcome(result.status, result.release_id, result.ocid, missing)
    except DomainError as exc:
        outcome = PublicationOutcome("refused", missing_fields=missing, reason=exc.reason.value)
    with deps.uow() as uow:
        row = contract_for(uow, tender_id)
        d = data_of(row)
        d["publication"] = outcome.to_dict()
        row.data_json = json.dumps(d, ensure_ascii=False, sort_keys=True)
        uow.record(at=now, actor=ENGINE_ACTOR, action="contract.published" if outcome.reason is None
                   else "contract.publication_refused", entity="contract", entity_id=row.tracking_number,
                   reason=Reason(outcome.reason) if outcome.reason else None,
                   payload={k: v for k, v in outcome.to_dict().items() if k != "reason"})
        uow.commit()
    return outcome


@dataclass(frozen=True)
class ProjectControlOutcome:
    """Whether project control registered the contract, its code, and the reason code of a refusal."""

    registered: bool
    contract_code: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"registered": self.registered, "reason": self.reason}
        if self.registered:
            out["contract_code"] = self.contract_code
        return out


def register_in_project_control(deps: Deps, tender_id: str,
                                project_control: ProjectControlSystem) -> ProjectControlOutcome:
    """Project control fetches the contract by its code from this system (R14); a refusal
    (NO_CONTRACT_CODE, CONTRACT_NOT_FINAL) is audited and returned, not raised."""
    with deps.uow() as uow:
        row = uow.contracts.for_tender(tender_id)
    code = row.code if row is not None else None
    try:
        registered = project_control.register_contract(code or "")
    except DomainError as exc:
        record_refusal(deps.sessions, exc, at=deps.clock.now(), actor="project_control",
                       action="project_control.refused", entity="contract",
                       entity_id=row.tracking_number if row else tender_id, payload={"contract_code": code or ""})
        return ProjectControlOutcome(False, reason=exc.reason.value)
    return ProjectControlOutcome(True, registered.contract_code)


@dataclass(frozen=True)
class Approval:
    """One stage approval: stage key, role, approver's national ID, time (UTC), signature reference."""

    stage: str
    role: str
    national_id: str
    at: datetime
    signature_ref: str | None


def approvals(deps: Deps, tender_id: str) -> list[Approval]:
    """Stage approvals in order, with who approved and their signature (for artifacts and reports)."""
    with deps.uow() as uow:
        row = uow.contracts.for_tender(tender_id)
        if row is None:
            return []
        return [Approval(a.stage, a.role, a.approver_national_id, a.approved_at, a.signature_ref)
                for a in uow.contracts.approvals(row.id)]
