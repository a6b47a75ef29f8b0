"""The signed contract document (R12, R13): one canonical XML that the treasurer, the employer's
signatory and the contractor's signatory sign in turn, each signature verified at once."""
from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from lxml import etree

from domain.contract.workflow import CONTRACTOR_SIGNATORY, ContractRegistration
from domain.documents.xmlcommon import new_document, sub
from domain.reasons import DomainError, Reason
from domain.xmlsafe import parse_untrusted
from services import tender as tender_svc
from services.deps import Deps
from services.signers import COMPANY_SIGNATORY, trust_store
from signing.verify import split_signer_ref, verify_document
from signing.xmldsig import signature_elements, signatures
from store import models as m
from store.uow import UnitOfWork

NS = "urn:tehran:eproc:contract:1"
DOC_KIND = "contract"
STAGE_DOCS = "stage_documents"  # data_json key: the stage documents signed at the stations, as received


def contract_for(uow: UnitOfWork, tender_id: str) -> m.Contract:
    """The contract registered for tender `tender_id`, read inside the caller's unit of work.

    Raises: INVALID_INPUT when no contract is registered for it."""
    row = uow.contracts.for_tender(tender_id)
    if row is None:
        raise DomainError(Reason.INVALID_INPUT, f"برای مناقصهٔ «{tender_id}» قراردادی ثبت نشده است")
    return row


def reread_contract(uow: UnitOfWork, row: m.Contract) -> m.Contract:
    """The stored contract `row` (read in an earlier unit of work) again, in the caller's.

    Raises: INVALID_INPUT when it is no longer in the store."""
    stored = uow.contracts.by_tracking(row.tracking_number)
    if stored is None:
        raise DomainError(Reason.INVALID_INPUT, f"قرارداد «{row.tracking_number}» ثبت نشده است")
    return stored


def data_of(row: m.Contract) -> dict[str, Any]:
    """The contract's stored document data (fields, terms, price, signed XML, publication)."""
    return json.loads(row.data_json or "{}")


def contract_document(row: m.Contract, fields: dict[str, Any], data: dict[str, Any]) -> etree._Element:
    """The canonical contract: what the treasurer, the employer and the contractor sign."""
    root, body = new_document(NS, "Contract", 1)
    c = sub(body, "Registration", tracking_number=row.tracking_number, tender_id=row.tender_id, unit=row.unit_id,
            kind=row.kind, threshold_class=fields["threshold_class"], selection_method=fields["selection_method"])
    sub(c, "Subject", str(fields["subject"]))
    price = data.get("price", {})
    sub(body, "Amount", rial=row.amount_rial, coefficient=price.get("coefficient"),
        estimate_rial=price.get("estimate_rial"))
    sub(body, "Budget", budget_line=fields.get("budget_line") or "", expense_factor=fields.get("expense_factor") or "")
    sub(body, "Contractor", national_id=fields["contractor_national_id"],
        economic_code=fields["contractor_economic_code"], grade=fields["contractor_grade"],
        ceo=fields["contractor_ceo"])
    for nid in fields["contractor_signatories"]:
        sub(body, "ContractorSignatory", national_id=nid)
    for nid in fields["employer_signatories"]:
        sub(body, "EmployerSignatory", national_id=nid)
    for nid in fields["commission_members"]:
        sub(body, "CommissionMember", national_id=nid)
    sub(body, "Supervisor", national_id=fields["supervisor"])
    sub(body, "ContractDate", fields["contract_date"])
    return root


def signed_xml(row: m.Contract) -> bytes | None:
    """The contract document with every signature made so far, or None before the first."""
    b64 = data_of(row).get("document_xml")
    return base64.b64decode(b64) if b64 else None


def sign_contract_document(deps: Deps, row: m.Contract, reg: ContractRegistration, nid: str, role: str,
                            unit: str) -> str:
    """Sign the contract document on the token of `nid` claiming `role` in `unit`, verify the new
    signature at once and keep the document; returns the signature reference `contract:<tracking>#<id>`.

    Raises: SIGNATURE_INVALID, CERT_EXPIRED, CERT_REVOKED, CERT_UNTRUSTED, SIGNER_NOT_IN_ROLE (R12, R13)."""
    data = data_of(row)
    existing = signed_xml(row)
    doc = parse_untrusted(existing) if existing else contract_document(row, reg.fields, data)
    claimed = COMPANY_SIGNATORY if role == CONTRACTOR_SIGNATORY else role
    doc = deps.signers.get(nid).sign(doc, deps.clock, claimed, unit)
    xml = etree.tostring(doc, xml_declaration=True, encoding="UTF-8")
    checks = verify_document(xml, trust_store(deps.ca_cert, deps.sessions), deps.role_check, [(claimed, unit)]
                             + _signed_pairs(existing), received_at=deps.clock.now(),
                             max_skew=deps.policy.signing_time_skew())  # only the new (last) one is judged
    if not checks:
        raise DomainError(Reason.SIGNATURE_INVALID, f"امضای قرارداد {row.tracking_number}")
    last = checks[-1]
    if last.reason is not None:
        raise DomainError(last.reason, f"امضای قرارداد {row.tracking_number}")
    sig_id = signature_elements(doc)[-1].get("Id")
    with deps.uow() as uow:
        stored = reread_contract(uow, row)
        d = data_of(stored)
        d["document_xml"] = base64.b64encode(xml).decode("ascii")
        d["document_sha256"] = hashlib.sha256(xml).hexdigest()
        stored.data_json = json.dumps(d, ensure_ascii=False, sort_keys=True)
        tender_svc.record_signature(uow, DOC_KIND, row.tracking_number, last)
        uow.record(at=deps.clock.now(), actor=nid, action="contract.signed", entity="contract",
                   entity_id=row.tracking_number, payload={"role": claimed, "unit": unit, "signature": sig_id,
                                                           "cert_serial": str(last.cert_serial)})
        uow.commit()
    return f"{DOC_KIND}:{row.tracking_number}#{sig_id}"


def _signed_pairs(existing: bytes | None) -> list[tuple[str, str]]:
    if not existing:
        return []
    return [split_signer_ref(s.signer_ref) for s in signatures(parse_untrusted(existing))]

