"""Status statements and their payment (R13, R14, R17, R18, R20).

A statement restates all work to date; the engine computes it (domain.contract.statement), the
contractor signs the canonical statement with its token, then the supervisor, the employer's
reviewer (and the deputy on the stricter path) confirm and the treasurer signs, each with a
token, each signature verified. Payments go to the financial system, which fetches the contract
and the statement from this system by code and id and refuses what the rules forbid.

Every step reads the store first: a re-run resumes a statement where its signatures stopped and
never requests the same payment twice.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from domain.contract.approval_chain import StatementApprovalChain
from domain.contract.income import check_statement_allowed
from domain.contract.payment import check_contract_usable, check_not_paid, payment_key
from domain.contract.payment_data import STATEMENT_PAYMENT_CLASS, check_exemption
from domain.contract.roles import Act
from domain.contract.statement import (
    APPROVED,
    CONTRACTOR,
    REFUSED,
    SETTLED,
    StatementInput,
    StatementResult,
    StatementTerms,
    WasteTerms,
    compute_statement,
    previous_approved_cumulative,
)
from domain.documents.xmlcommon import new_document, sub, time_attrs
from domain.persian import to_tehran
from domain.reasons import DomainError, Reason
from domain.xmlsafe import parse_untrusted
from integrations.financial import ExemptPayments, ExpenseDocumentRequest, PaymentRequest
from services import tender as tender_svc
from services.contract.blacklist import check_contractor_not_blacklisted
from services.contract.document import contract_for, data_of
from services.contract.income import nature_of
from services.contract.inputs import PaymentOrder, StatementRequest, inputs_for
from services.contract.registration import contract_role_check, notify_financial
from services.deps import Deps
from services.signers import COMPANY_SIGNATORY, trust_store
from services.transactions_view import statement_key
from signing.verify import verify_document
from signing.xmldsig import signature_elements, signatures
from store import models as m
from store.uow import UnitOfWork, record_refusal

NS = "urn:tehran:eproc:status-statement:1"
DOC_KIND = "status_statement"
IN_REVIEW = "in_review"
ENGINE_ACTOR = "engine"
WASTE_PENALTY = "waste-penalty"  # the policy formula that computes waste-services penalties (R18)


# --- terms ---------------------------------------------------------------------------------------------
def statement_terms(deps: Deps, row: m.Contract) -> StatementTerms:
    """The contract's coefficient (or lump sum), the allowed change, the deductions and waste terms."""
    data = data_of(row)
    price, terms = data["price"], data["terms"]
    rates: dict[str, Decimal] = dict(deps.policy.defaults.deductions)
    rates.update({k: Decimal(v) for k, v in (terms.get("deductions") or {}).items()})
    waste = WasteTerms(**terms["waste"]) if terms.get("waste") else None
    coefficient = Decimal(price["coefficient"]) if price.get("coefficient") else None
    return StatementTerms(contract_amount_rial=row.amount_rial, coefficient=coefficient,
                          estimate_rial=None if coefficient is not None else int(price["estimate_rial"]),
                          allowed_change=deps.policy.defaults.allowed_change, deduction_rates=rates, waste=waste,
                          penalty_formula=deps.policy.formula(WASTE_PENALTY).to_formula() if waste else None)


def price_list_of(deps: Deps, tender_id: str) -> dict[str, int]:
    view = tender_svc.load(deps, tender_id)
    return {code: item.unit_price for code, item in view.price_list.items.items()}


# --- the canonical statement ---------------------------------------------------------------------------
def statement_document(contract: m.Contract, req: StatementRequest, seq: int, result: StatementResult,
                       previous_rial: int, terms: StatementTerms, price_list: dict[str, int]) -> etree._Element:
    root, body = new_document(NS, "StatusStatement", 1)
    sub(body, "Contract", tracking_number=contract.tracking_number, code=contract.code, unit=contract.unit_id,
        contractor=contract.contractor_id, amount_rial=contract.amount_rial)
    sub(body, "Statement", id=statement_key(contract.tracking_number, req.ref), ref=req.ref, seq=seq,
        **{f"at_{k}": v for k, v in time_attrs(req.at).items()})
    items = sub(body, "Items")
    for code, qty in req.items:
        sub(items, "Item", code=code, quantity=format(qty, "f"), unit_price_rial=price_list.get(code))
    sub(body, "Terms", coefficient=str(terms.coefficient) if terms.coefficient is not None else None,
        estimate_rial=terms.estimate_rial, allowed_change=str(terms.allowed_change))
    if req.vehicles is not None or req.workers is not None:
        sub(body, "Resources", vehicles=req.vehicles, workers=req.workers,
            missing_vehicles=result.missing_vehicles, missing_workers=result.missing_workers)
    amounts = sub(body, "Amounts", cumulative_rial=result.cumulative_rial, previous_approved_rial=previous_rial,
                  gross_rial=result.gross_rial, penalty_rial=result.penalty_rial, payable_rial=result.payable_rial)
    for name, value in sorted(result.deductions.items()):
        sub(amounts, "Deduction", kind=name, rial=value)
    return root


# --- submission and review -----------------------------------------------------------------------------
@dataclass(frozen=True)
class StatementOutcome:
    ref: str
    result: str
    payable_rial: int | None
    reason: str | None
    cumulative_rial: int
    gross_rial: int | None
    penalty_rial: int
    signers: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "result": self.result, "payable_rial": self.payable_rial, "reason": self.reason,
                "cumulative_rial": self.cumulative_rial, "gross_rial": self.gross_rial,
                "penalty_rial": self.penalty_rial, "signers": list(self.signers)}


def outcome_of(row: m.StatusStatement) -> StatementOutcome:
    data = json.loads(row.data_json or "{}")
    approved = row.result == APPROVED
    return StatementOutcome(row.ref, row.result, row.payable_rial if approved else None, row.reason,
                            row.cumulative_rial, row.gross_rial if approved else None, row.penalty_rial,
                            tuple(data.get("signers", [])))


def submit_statement(deps: Deps, tender_id: str, ref: str) -> StatementOutcome:
    """Compute the statement, have it signed along its path, and record the result (idempotent)."""
    inputs = inputs_for(deps, tender_id)
    order = [s.ref for s in inputs.statements]
    if ref not in order:
        raise DomainError(Reason.INVALID_INPUT, f"صورت‌وضعیت «{ref}» در ورودی‌ها نیست")
    req, seq = inputs.statements[order.index(ref)], order.index(ref) + 1
    with deps.uow() as uow:
        contract = contract_for(uow, tender_id)
        row = uow.statements.by_ref(contract.id, ref)
        history = [(s.seq, s.result, s.cumulative_rial) for s in uow.statements.for_contract(contract.id)]
    if row is not None and row.result in SETTLED:
        return outcome_of(row)
    key = statement_key(contract.tracking_number, ref)
    try:
        # An income contract has no status statements: its money comes in by receipts (R30).
        check_statement_allowed(nature_of(data_of(contract)), f"{contract.tracking_number}: صورت‌وضعیت {ref}")
        check_contract_usable(contract.code, contract.stage, f"صورت‌وضعیت {ref}")
    except DomainError as exc:
        outcome = _settle_refused_without_review(deps, contract, req, seq, exc.reason)
        _record_in_project_control(deps, contract, key)  # project control must refuse it too (R14)
        return outcome
    result, doc = begin_review(deps, tender_id, contract, req, seq, history, row)
    signers: list[str] = []
    if req.signed_by_contractor:
        path = result.approval_path if result.result == APPROVED else (CONTRACTOR,)
        try:
            doc, signers = _sign_along(deps, contract, key, doc, path, result, req, seq)
        except DomainError as exc:
            # A signature that does not count (revoked, out of role) stops the review: nothing is payable.
            result = StatementResult(ref, REFUSED, result.cumulative_rial, None, {}, None, None, exc.reason, ())
            with deps.uow() as uow:
                saved = _saved(uow, contract, ref).xml
            assert saved is not None  # saved with its document before the first signature
            doc = parse_untrusted(saved)
    settle_statement(deps, contract, req, seq, result, doc, signers)
    with deps.uow() as uow:
        return outcome_of(_saved(uow, contract, ref))


def begin_review(deps: Deps, tender_id: str, contract: m.Contract, req: StatementRequest, seq: int,
                 history: list[tuple[int, str, int]], row: m.StatusStatement | None,
                 extra: dict[str, Any] | None = None) -> tuple[StatementResult, etree._Element]:
    """Compute the statement `req` (number `seq`) of the contract by the domain's rules
    (domain.contract.statement.compute_statement with the contract's terms, the tender's price list
    and the last approved cumulative of `history` [(seq, result, cumulative_rial)]), audit its
    submission and keep its canonical document in review (unless `row` holds it already). The one
    start of a statement's review: the rehearsal (`submit_statement`) and the contractor's station
    (services.contract.at_stations) both call it. `extra`: more stored data (the station's request).

    Returns the result (amounts in rials; approved, halted or refused with its reason) and the
    canonical document the path signs. Raises: INVALID_INPUT, POLICY_INVALID (unusable terms).
    Rule: R17, R18, R20."""
    key = statement_key(contract.tracking_number, req.ref)
    terms = statement_terms(deps, contract)
    prices = price_list_of(deps, tender_id)
    previous_rial = previous_approved_cumulative(history, seq)
    result = compute_statement(StatementInput(req.ref, [{"code": c, "quantity": q} for c, q in req.items],
                                              req.signed_by_contractor, req.vehicles, req.workers),
                               terms, prices, previous_rial)
    _audit(deps, contract, key, "statement.submitted", None,
           {"seq": seq, "cumulative_rial": result.cumulative_rial, "previous_approved_rial": previous_rial,
            "vehicles": req.vehicles, "workers": req.workers, "signed_by_contractor": req.signed_by_contractor})
    doc = parse_untrusted(row.xml) if row is not None and row.xml else \
        statement_document(contract, req, seq, result, previous_rial, terms, prices)
    if row is None:
        _save(deps, contract, req, seq, result, IN_REVIEW, None, doc, [], extra)
    return result, doc


def settle_statement(deps: Deps, contract: m.Contract, req: StatementRequest, seq: int, result: StatementResult,
                     doc: etree._Element | None, signers: list[str], extra: dict[str, Any] | None = None) -> None:
    """End a statement's review with `result` (approved, halted or refused, amounts in rials) and the
    signatures on `doc` (`signers`: the roles that signed, in order): stored, audited, and recorded in
    project control, which fetches it by id and refuses what the rules forbid (R14). The one end of a
    review, for the rehearsal and the stations' path alike. Raises: nothing of its own.
    Rule: R14, R17, R18."""
    key = statement_key(contract.tracking_number, req.ref)
    final_result = result.result
    _save(deps, contract, req, seq, result, final_result, result.reason, doc, signers, extra)
    _audit(deps, contract, key, f"statement.{final_result}", result.reason,
           {"payable_rial": result.payable_rial, "gross_rial": result.gross_rial, "penalty_rial": result.penalty_rial,
            "deductions": result.deductions, "path": list(result.approval_path)})
    _record_in_project_control(deps, contract, key)


def record_statement_signature(deps: Deps, contract: m.Contract, ref: str, xml: bytes, check: Any,
                               claimed: str, unit: str, expected_sha256: str | None = None) -> str:
    """Keep the statement's document `xml` with a new verified signature (`check`, the last one,
    claiming `claimed`@`unit`): the signature row the outside systems read, the stored bytes and the
    audit entry. Returns the signature's reference `status_statement:<id>#<signature Id>`.
    `expected_sha256`: the SHA-256 of the stored bytes this write replaces (a station's upload); the
    audit append comes first then, serialising writers, and bytes changed in between are refused.
    The one writer of statement signatures (rehearsal and stations).

    Raises: WRONG_STAGE (with `expected_sha256`: another signature landed first). Rule: R17."""
    key = statement_key(contract.tracking_number, ref)
    sig_id = signature_elements(parse_untrusted(xml))[-1].get("Id")
    payload = {"role": claimed, "unit": unit, "signature": sig_id, "cert_serial": str(check.cert_serial)}
    with deps.uow() as uow:
        if expected_sha256 is not None:
            uow.record(at=deps.clock.now(), actor=check.national_id, action="statement.signed",
                       entity="status_statement", entity_id=key, payload=payload)
            row = _saved(uow, contract, ref)
            if row.xml is None or hashlib.sha256(row.xml).hexdigest() != expected_sha256:
                raise DomainError(Reason.WRONG_STAGE, "پیش از رسیدن امضای شما امضای دیگری روی صورت‌وضعیت ثبت شد؛ "
                                                      "آن را دوباره دریافت و امضا کنید")
            tender_svc.record_signature(uow, DOC_KIND, key, check)
            row.xml = xml
        else:
            tender_svc.record_signature(uow, DOC_KIND, key, check)
            row = _saved(uow, contract, ref)
            row.xml = xml
            uow.record(at=deps.clock.now(), actor=check.national_id, action="statement.signed",
                       entity="status_statement", entity_id=key, payload=payload)
        uow.commit()
    return f"{DOC_KIND}:{key}#{sig_id}"


def _settle_refused_without_review(deps: Deps, contract: m.Contract, req: StatementRequest, seq: int,
                                   reason: Reason) -> StatementOutcome:
    """A contract whose workflow has not ended takes no statement (R13, R14)."""
    key = statement_key(contract.tracking_number, req.ref)
    result = StatementResult(req.ref, REFUSED, 0, None, {}, None, None, reason, ())
    _save(deps, contract, req, seq, result, REFUSED, reason, None, [])
    _audit(deps, contract, key, "statement.refused", reason, {"stage": contract.stage})
    with deps.uow() as uow:
        return outcome_of(_saved(uow, contract, req.ref))


def _saved(uow: UnitOfWork, contract: m.Contract, ref: str) -> m.StatusStatement:
    """A statement this step has just saved (`_save`), read back."""
    row = uow.statements.by_ref(contract.id, ref)
    assert row is not None, ref
    return row


def _sign_along(deps, contract: m.Contract, key: str, doc, path: tuple[str, ...], result: StatementResult,
                req: StatementRequest, seq: int):
    """Each role in the path signs in turn with its token; signatures already on the document count."""
    fields = data_of(contract)["fields"]
    role_check = contract_role_check(deps.role_check)
    chain = StatementApprovalChain(req.ref, tuple(path), contract.unit_id, contract.contractor_id, APPROVED)
    trust = trust_store(deps.ca_cert, deps.sessions)
    required = [_claim(r, contract) for r in path]
    signers: list[str] = []
    for role in path:
        claimed, unit = _claim(role, contract)
        present = {s.signer_ref: s for s in signatures(doc)} if signature_elements(doc) else {}
        existing = present.get(f"{claimed}@{unit}")
        if existing is None:
            nid = _person_for(deps, role, contract, fields)
            doc = deps.signers.get(nid).sign(doc, deps.clock, claimed, unit)
            xml = etree.tostring(doc, xml_declaration=True, encoding="UTF-8")
            checks = verify_document(xml, trust, deps.role_check, required, received_at=deps.clock.now(),
                                     max_skew=deps.policy.signing_time_skew())  # the new (last) one counts
            last = checks[-1]
            if last.reason is not None:
                raise DomainError(last.reason, f"امضای {role} بر صورت‌وضعیت {req.ref}")
            assert last.signing_time is not None  # a valid signature's signing time was read from it
            at = last.signing_time
            signature_ref = record_statement_signature(deps, contract, req.ref, xml, last, claimed, unit)
        else:
            nid, at = existing.national_id, existing.signing_time
            signature_ref = f"{DOC_KIND}:{key}#{existing.signature_id}"
        chain.sign(Act(nid, role, contract.contractor_id if role == CONTRACTOR else contract.unit_id, at,
                       signature_ref), role_check)
        signers.append(role)
    return doc, signers


def _claim(role: str, contract: m.Contract) -> tuple[str, str]:
    """The role a signature claims, as the verifier checks it: the contractor signs for its company."""
    return (COMPANY_SIGNATORY, contract.contractor_id) if role == CONTRACTOR else (role, contract.unit_id)


def _person_for(deps: Deps, role: str, contract: m.Contract, fields: dict[str, Any]) -> str:
    if role == CONTRACTOR:
        return str(fields["contractor_ceo"])
    if role == "supervisor":
        return str(fields["supervisor"])  # the supervisor named on the contract, not any supervisor
    day = to_tehran(deps.clock.now()).date()
    with deps.uow() as uow:
        holders = uow.roles.holders(contract.unit_id, day, [role])
    candidates = [h for h in holders if h.alternate_for is None and h.national_id in deps.signers] or list(holders)
    if not candidates:
        raise DomainError(Reason.SIGNER_NOT_IN_ROLE, f"هیچ‌کس در سمت «{role}» واحد «{contract.unit_id}» نیست")
    return candidates[0].national_id


def _save(deps, contract: m.Contract, req: StatementRequest, seq: int, result: StatementResult, status: str,
          reason: Reason | None, doc, signers: list[str], extra: dict[str, Any] | None = None) -> None:
    xml = etree.tostring(doc, xml_declaration=True, encoding="UTF-8") if doc is not None else None
    data = {"deductions": result.deductions, "approval_path": list(result.approval_path), "signers": signers,
            "vehicles": req.vehicles, "workers": req.workers, "missing_vehicles": result.missing_vehicles,
            "missing_workers": result.missing_workers, "signed_by_contractor": req.signed_by_contractor,
            **(extra or {})}
    with deps.uow() as uow:
        row = uow.statements.by_ref(contract.id, req.ref)
        if row is None:
            row = uow.statements.add(m.StatusStatement(contract_id=contract.id, ref=req.ref, seq=seq, at=req.at,
                                                       cumulative_rial=0, gross_rial=0, payable_rial=0))
        row.cumulative_rial = result.cumulative_rial
        row.gross_rial = result.gross_rial or 0
        row.payable_rial = result.payable_rial or 0
        row.penalty_rial = result.penalty_rial or 0
        row.result, row.reason = status, reason.value if reason else None
        if xml is not None:
            row.xml = xml
        row.data_json = json.dumps(data, ensure_ascii=False, sort_keys=True)
        uow.commit()


def _audit(deps, contract: m.Contract, key: str, action: str, reason: Reason | None, payload: dict) -> None:
    with deps.uow() as uow:
        uow.record(at=deps.clock.now(), actor=ENGINE_ACTOR, action=action, entity="status_statement", entity_id=key,
                   reason=reason, payload={"contract": contract.tracking_number, **payload})
        uow.commit()


def _record_in_project_control(deps: Deps, contract: m.Contract, key: str) -> None:
    """Project control takes the statement by id from this system; it refuses non-final contracts (R14)."""
    if deps.project_control is None:
        return
    try:
        deps.project_control.record_statement(key)
    except DomainError as exc:
        record_refusal(deps.sessions, exc, at=deps.clock.now(), actor="project_control",
                       action="project_control.refused", entity="status_statement", entity_id=key,
                       payload={"contract": contract.tracking_number})


# --- payments ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PaymentOutcome:
    ref: str
    result: str  # paid | refused
    reason: str | None
    amount_rial: int

    def to_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "result": self.result, "reason": self.reason, "amount_rial": self.amount_rial}


def _attempt_key(tracking_number: str, ref: str) -> str:
    # Refused attempts keep their own key: the payment key of a paid statement is taken once only.
    return hashlib.sha256(f"attempt:v1:{tracking_number}:{ref}".encode()).hexdigest()


def request_payment(deps: Deps, tender_id: str, ref: str) -> PaymentOutcome:
    """Ask the financial system to record the expense document and pay one statement (payment order
    `ref` of the tender's inputs), exactly once: the contract's code, budget line, expense factor and
    budget-allocation code from its registered terms, payment class `after_expense` (R20, R29); a
    notification the financial system refused earlier is asked again first (R28). A refusal — the
    engine's (statement not settled, paid already, BLACKLISTED: the contractor on the blacklist
    today, R25) or the financial system's (its reason code) — is stored and audited as
    `payment.refused` and returned, never raised. Amounts in rials.

    Raises: INVALID_INPUT (no financial system; no such payment order). Rule: R13, R18, R20, R25, R28, R29."""
    inputs = inputs_for(deps, tender_id)
    financial = deps.financial
    if financial is None:
        raise DomainError(Reason.INVALID_INPUT, "سامانهٔ مالی برای این فرایند تنظیم نشده است")
    order: PaymentOrder | None = next((p for p in inputs.payments if p.ref == ref), None)
    if order is None:
        raise DomainError(Reason.INVALID_INPUT, f"درخواست پرداخت «{ref}» در ورودی‌ها نیست")
    with deps.uow() as uow:
        contract = contract_for(uow, tender_id)
        statement_rows = {s.id: s for s in uow.statements.for_contract(contract.id)}
        done = uow.payments.attempt(ref, statement_rows)
        statement = uow.statements.by_ref(contract.id, order.statement_ref)
        paid_before = statement is not None and uow.payments.paid(statement.id)
    if done is not None:
        return PaymentOutcome(ref, done.result, done.reason, done.amount_rial)
    code = (contract.code or "") if order.contract_code == "from-award" else order.contract_code.strip()
    skey = statement_key(contract.tracking_number, order.statement_ref)
    pkey = payment_key(code, skey)
    amount = statement.payable_rial if statement is not None and statement.result == APPROVED else 0
    # The payment's data is the contract's registered terms (R20, R29): its budget line and expense
    # factor, its budget-allocation code; a statement is paid after its expense document.
    budget_line, expense_factor = contract.budget_line or "", contract.expense_factor or ""
    allocation = str(data_of(contract)["fields"].get("budget_allocation_code") or "")
    now = deps.clock.now()
    try:
        if statement is None or statement.result not in SETTLED:
            raise DomainError(Reason.STATEMENT_NOT_APPROVED, f"صورت‌وضعیت {order.statement_ref} بررسی نشده است")
        # The financial system would take the same key as a retry; a new request for a paid statement is refused.
        check_not_paid(order.statement_ref, paid_before)
        # R25: nothing is paid to a contractor on the blacklist on the day of the payment.
        check_contractor_not_blacklisted(deps, contract.contractor_id, now, f"پرداخت {ref}")
        if code and code == contract.code:
            notify_financial(deps, contract.tracking_number)  # a notification refused earlier is retried (R28)
        financial.record_expense_document(ExpenseDocumentRequest(
            document_key=f"expense:{pkey}", contract_code=code, statement_id=skey, budget_line=budget_line,
            expense_factor=expense_factor, amount_rial=amount))
        record = financial.pay(PaymentRequest(payment_key=pkey, contract_code=code, statement_id=skey,
                                              budget_line=budget_line, expense_factor=expense_factor,
                                              amount_rial=amount, payment_class=STATEMENT_PAYMENT_CLASS,
                                              budget_allocation_code=allocation))
    except DomainError as exc:
        with deps.uow() as uow:
            uow.payments.add(m.Payment(ref=ref, statement_id=statement.id if statement else None,
                                       payment_key=_attempt_key(contract.tracking_number, ref), result="refused",
                                       reason=exc.reason.value, amount_rial=amount, at=now))
            uow.record(at=now, actor=ENGINE_ACTOR, action="payment.refused", entity="payment",
                       entity_id=f"{contract.tracking_number}/{ref}", reason=exc.reason,
                       payload={"ref": ref, "contract_code": code, "statement": skey, "amount_rial": amount,
                                "unit": contract.unit_id, "payment_key": _attempt_key(contract.tracking_number, ref),
                                "detail": exc.detail})
            uow.commit()
        return PaymentOutcome(ref, "refused", exc.reason.value, amount)
    with deps.uow() as uow:
        uow.payments.add(m.Payment(ref=ref, statement_id=statement.id, payment_key=pkey, result="paid", reason=None,
                                   amount_rial=record.amount_rial, at=now))
        uow.record(at=now, actor=ENGINE_ACTOR, action="payment.paid", entity="payment",
                   entity_id=f"{contract.tracking_number}/{ref}",
                   payload={"ref": ref, "contract_code": code, "statement": skey, "amount_rial": record.amount_rial,
                            "payment_key": pkey,
                            "unit": contract.unit_id, "budget_line": budget_line, "expense_factor": expense_factor,
                            "statement_xml_sha256": record.statement_xml_sha256})
        uow.commit()
    return PaymentOutcome(ref, "paid", None, record.amount_rial)


def pay_exemption(deps: Deps, payment_key: str, exemption: str, amount_rial: int, payee: str,
                  reference: str = "", contract_code: str = "", actor: str = ENGINE_ACTOR) -> dict[str, Any]:
    """A payment exempt from the budget-line rule (R29: `initial_petty_cash`, `deposit_refund`,
    `fee_refund`), without a status statement: asked of the financial system once per `payment_key`
    (the same request again is the same payment), audited as `payment.exempt_paid` or, refused, as
    `payment.exempt_refused` with its reason code. `payee`: the national ID paid; `contract_code`: the
    contract it belongs to, if any (a deposit refund names it). Amount in rials.

    Returns the payment as the financial system recorded it. Raises: INVALID_INPUT (unknown exemption;
    a financial system that takes no exempt payments), the financial system's refusal. Rule: R29."""
    financial = deps.financial
    entity_id = f"exempt/{payment_key}"
    try:
        check_exemption(exemption)
        if not isinstance(financial, ExemptPayments):
            raise DomainError(Reason.INVALID_INPUT, "سامانهٔ مالی این فرایند پرداخت معاف از ردیف بودجه نمی‌پذیرد")
        paid = financial.pay_exempt(payment_key, exemption, amount_rial, payee, reference, contract_code)
    except DomainError as exc:
        record_refusal(deps.sessions, exc, at=deps.clock.now(), actor=actor, action="payment.exempt_refused",
                       entity="payment", entity_id=entity_id,
                       payload={"exemption": exemption, "amount_rial": amount_rial, "payee": payee,
                                "contract_code": contract_code})
        raise
    with deps.uow() as uow:
        uow.record(at=deps.clock.now(), actor=actor, action="payment.exempt_paid", entity="payment",
                   entity_id=entity_id, payload={"exemption": exemption, "amount_rial": amount_rial, "payee": payee,
                                                 "contract_code": contract_code, "reference": reference})
        uow.commit()
    return paid


# --- the order of events ------------------------------------------------------------------------------
def timeline(deps: Deps, tender_id: str) -> list[tuple[datetime, str, str]]:
    """Statements and payments at their times; at the same moment a statement comes before a payment."""
    inputs = inputs_for(deps, tender_id)
    events = [(s.at, 0, i, "statement", s.ref) for i, s in enumerate(inputs.statements)]
    events += [(p.at, 1, i, "payment", p.ref) for i, p in enumerate(inputs.payments)]
    return [(at, kind, ref) for at, _, _, kind, ref in sorted(events)]
