"""Telling contractors what concerns them (R26): one SMS per (event, recipient) through the notifier
port (the SMS outbox, which is also the contractor's portal inbox), to the contacts the contractor
registry holds for the company.

Where a contact comes from, in one place (`mobile_of`): a rehearsal's simulated contacts
(`deps.contacts`, filled by pilot.world), else the contractor registry wired into the process
(`registry_of`: `deps.contractors`). A notice whose company has no mobile in the registry is not
skipped silently: it is recorded once in `notification_gaps` (store.support) and logged with ids only,
and the sweep functions return it among `unreachable`.

Every notice has a dedup key naming the event and the recipient, so a rerun, a resumed flow or the
sweep after an inline send sends nothing twice (the outbox keeps one message per key):

    notify(deps, recipient, template, params, dedup, company_id=None)  the inline call of a step
    tender_notices(deps, tender_id) / contract_notices(deps, tracking_number)  what the store says
        concerned the tender's bidders / the contract's contractor (receipts, opening result, contract
        stages, code, statements approved or returned, payments)
    requirement_notices(deps, company_ids, unit, effective_date, deadline, support)  token and
        e-signature requirements
    deliver(deps, notices) -> Delivery                                   send each once; report gaps
    notify_tender(deps, tender_id) / notify_contract(deps, tracking_number)  both steps at once
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.contract.statement import APPROVED, HALTED, REFUSED
from domain.persian import format_jalali_datetime, format_rial, persian_digits
from domain.reasons import DomainError, Reason
from integrations.notifications import Template
from services.deps import Deps
from store import models as m
from store.support import support_of

if TYPE_CHECKING:
    from integrations.contractor_registry import ContractorRegistry

log = logging.getLogger(__name__)

# The workflow stages as people read them (config/policy/default.toml [[workflow...]] stage ids).
STAGE_FA = {"draft": "پیش‌نویس", "legal_review": "بررسی حقوقی", "budget": "تأمین اعتبار", "treasurer": "ذی‌حساب",
            "signing": "امضای طرفین", "final": "نهایی"}
PAID = "paid"  # store.models.Payment.result of a payment made
RETURNED = (REFUSED, HALTED)


@dataclass(frozen=True)
class Notice:
    """One message to one recipient: `recipient` is whom the portal inbox lists it under (the bidder
    reference in a tender, else the company's national ID), `company_id` whose registry contacts
    receive it, `dedup` the (event, recipient) key that makes it go out once."""

    recipient: str
    company_id: str | None
    template: Template
    params: dict[str, Any]
    dedup: str


@dataclass
class Delivery:
    """What `deliver` did: dedup keys handed to the outbox (now or before), and the recipients the
    registry gives no mobile (each with the dedup key recorded in notification_gaps)."""

    sent: list[str] = field(default_factory=list)
    unreachable: list[tuple[str, str]] = field(default_factory=list)  # (recipient, dedup key)

    def to_dict(self) -> dict[str, Any]:
        return {"sent": list(self.sent), "unreachable": [{"recipient": r, "dedup": d} for r, d in self.unreachable]}


# --- dedup keys: one per (event, recipient); the inline calls and the sweep share them -------------
def receipt_key(tender_id: str, bidder_ref: str, seq: int) -> str:
    return f"receipt:{tender_id}:{bidder_ref}:{seq}"


def article18_key(tender_id: str, bidder_ref: str) -> str:
    return f"article18:{tender_id}:{bidder_ref}"


def event_key(event: str, subject: str, recipient: str) -> str:
    """The key of `event` (opening, stage, code, statement, payment, ...) about `subject` for `recipient`."""
    return f"{event}:{subject}:{recipient}"


# --- contacts: one home --------------------------------------------------------------------------
def registry_of(deps: Deps) -> ContractorRegistry | None:
    """The contractor registry wired into this process (`deps.contractors`), or None."""
    return deps.contractors


def mobile_of(deps: Deps, recipient: str, company_id: str | None) -> str | None:
    """The mobile a notice to `recipient` (of company `company_id`) goes to: the rehearsal's simulated
    contact for the recipient, else the registry's mobile for the company; None when neither has one."""
    if recipient in deps.contacts:
        return deps.contacts[recipient]
    registry = registry_of(deps)
    if registry is None or not company_id:
        return None
    contacts = registry.contacts(company_id)
    return contacts.mobile if contacts is not None else None


def deliver(deps: Deps, notices: Iterable[Notice]) -> Delivery:
    """Hand each notice to the outbox once (its dedup key); a recipient without a mobile is recorded
    once in notification_gaps and returned in `unreachable`, unless the outbox already holds that
    key (delivered earlier, when there was a contact: counted as sent). Nothing is sent where the process wires
    no notifier (then every notice is returned as unreachable, and nothing recorded).

    Raises: INVALID_INPUT (a template's parameters missing, or a dedup key reused for another message:
    the outbox's rules). Rule: R26."""
    result = Delivery()
    for notice in notices:
        mobile = mobile_of(deps, notice.recipient, notice.company_id)
        if deps.notifier is None:
            result.unreachable.append((notice.recipient, notice.dedup))
            continue
        if mobile is None:
            if any(msg.dedup_key == notice.dedup for msg in deps.notifier.outbox(notice.recipient)):
                result.sent.append(notice.dedup)  # delivered before (then the recipient had a contact)
                continue
            with deps.uow() as uow:
                new = support_of(uow).note_gap(notice.dedup, notice.recipient, notice.company_id,
                                               notice.template.value, deps.clock.now())
            if new:  # recorded for the operators (`eproc support gaps`); a line per gap in the log is enough
                log.info("notification without contact: recipient=%s company=%s key=%s", notice.recipient,
                         notice.company_id, notice.dedup)
            result.unreachable.append((notice.recipient, notice.dedup))
            continue
        deps.notifier.notify(mobile, notice.recipient, notice.template, notice.params, notice.dedup)
        result.sent.append(notice.dedup)
    return result


def notify(deps: Deps, recipient: str, template: str, params: dict[str, Any], dedup: str,
           company_id: str | None = None) -> None:
    """Send `template` with `params` to the recipient's mobile, once per `dedup` key (the inline call
    of a step: a bid's receipt, the Article 18 notification). `company_id`: the recipient's company
    for the registry's contacts; by default the recipient itself (a bidder reference is the company's
    national ID unless the bidder chose another). Nothing is sent where no notifier is wired; a
    recipient without contact is recorded (notification_gaps), not an error of the step.

    Raises: INVALID_INPUT (the outbox's rules: template parameters, a reused dedup key). Rule: R26."""
    deliver(deps, [Notice(recipient, company_id or recipient, Template(template), params, dedup)])


# --- what concerned whom, read from the store -----------------------------------------------------
def tender_notices(deps: Deps, tender_id: str) -> list[Notice]:
    """The notices a tender owes its bidders so far: each accepted submission's receipt (the key the
    submission step used) and, once the Article 13 minutes are final, each bidder's opening result
    (winner, runner-up, ranked, or not ranked). The Article 18 notification is the step's own
    (services.tender.notification.notify_winner).

    Raises: NOT_FOUND (no such tender); STORE_TAMPERED, SIGNATURE_INVALID (final minutes that do not
    verify). Rule: R26, art. 18."""
    from services.tender.minutes import final_minutes

    with deps.uow() as uow:
        tender = uow.tenders.get(tender_id)
        if tender is None:
            raise DomainError(Reason.NOT_FOUND, f"مناقصهٔ {tender_id} نیست")
        bids = [b for b in uow.bids.all_for(tender_id, sealed=False) if b.refused_reason is None]
    notices = [Notice(b.bidder_ref, b.company_id, Template.BID_RECEIPT,
                      {"tender_title": tender.title, "received_at": format_jalali_datetime(b.received_at),
                       "receipt_id": f"{tender_id}/{b.bidder_ref}/{b.seq}"},
                      receipt_key(tender_id, b.bidder_ref, b.seq)) for b in bids]
    try:
        _, award, _ = final_minutes(deps, tender_id)
    except DomainError as exc:
        if exc.reason is not Reason.WRONG_STAGE:
            raise
        return notices  # not opened yet (or the minutes not final): receipts only
    companies = {b.bidder_ref: b.company_id for b in bids}
    ranked = sorted(award.prices, key=lambda ref: award.prices[ref])
    for ref, company in companies.items():
        if ref == award.winner:
            outcome = f"برنده با مبلغ {format_rial(award.prices[ref], persian=True)} ریال"
        elif ref == award.runner_up:
            outcome = "نفر دوم"
        elif ref in award.prices:
            outcome = f"رتبهٔ {persian_digits(str(ranked.index(ref) + 1))}"
        else:
            outcome = "پیشنهاد شما در رتبه‌بندی قیمت نیامد؛ علت در صورتجلسه آمده است"
        notices.append(Notice(ref, company, Template.OPENING_RESULT,
                              {"tender_title": award.title, "outcome": outcome},
                              event_key("opening", tender_id, ref)))
    return notices


def contract_notices(deps: Deps, tracking_number: str) -> list[Notice]:
    """The notices a contract owes its contractor (the company, by national ID) so far: each stage
    its workflow passed, the contract code once issued, each status statement approved (with its
    payable amount) or returned (with the reason's Persian message), each payment made.

    Raises: NOT_FOUND (no contract with that tracking number). Rule: R26, R12, R13, R17, R18."""
    with deps.uow() as uow:
        contract = uow.contracts.by_tracking(tracking_number)
        if contract is None:
            raise DomainError(Reason.NOT_FOUND, f"قرارداد {tracking_number} نیست")
        tender = uow.tenders.get(contract.tender_id) if contract.tender_id else None
        approvals = list(uow.contracts.approvals(contract.id))
        statements = list(uow.statements.for_contract(contract.id))
        payments = list(uow.payments.for_statements([s.id for s in statements]))
    company = contract.contractor_id
    title = tender.title if tender is not None else tracking_number
    reference = contract.code or tracking_number
    notices = []
    for i, approval in enumerate(approvals):
        following = approvals[i + 1].stage if i + 1 < len(approvals) else contract.stage
        notices.append(Notice(company, company, Template.CONTRACT_STAGE,
                              {"tracking_number": tracking_number, "tender_title": title,
                               "stage": STAGE_FA.get(approval.stage, approval.stage),
                               "next_stage": STAGE_FA.get(following, following)},
                              event_key("stage", f"{tracking_number}/{approval.stage}", company)))
    if contract.code:
        notices.append(Notice(company, company, Template.CONTRACT_CODE,
                              {"tender_title": title, "contract_code": contract.code},
                              event_key("code", tracking_number, company)))
    refs = {s.id: s.ref for s in statements}
    for s in statements:
        if s.result == APPROVED:
            notices.append(Notice(company, company, Template.STATEMENT_APPROVED,
                                  {"statement_id": s.ref, "contract_code": reference, "payable_rial": s.payable_rial},
                                  event_key("statement", f"{tracking_number}/{s.ref}", company)))
        elif s.result in RETURNED:
            notices.append(Notice(company, company, Template.STATEMENT_RETURNED,
                                  {"statement_id": s.ref, "contract_code": reference, "reason": _reason_fa(s.reason)},
                                  event_key("statement", f"{tracking_number}/{s.ref}", company)))
    for p in payments:
        if p.result == PAID and p.statement_id is not None:
            notices.append(Notice(company, company, Template.PAYMENT_MADE,
                                  {"amount_rial": p.amount_rial, "statement_id": refs[p.statement_id],
                                   "contract_code": reference},
                                  event_key("payment", f"{tracking_number}/{p.payment_key}", company)))
    return notices


def requirement_notices(deps: Deps, company_ids: Sequence[str], unit: str, effective_date: date, deadline: date,
                        support: str) -> list[Notice]:
    """The token and e-signature requirements (R26) for each company: a token is needed by
    `deadline`; from `effective_date` the unit's documents count only e-signed. `support` is the
    support channel people are pointed to (a phone number or address). Company names from the registry.

    Raises: INVALID_INPUT (no contractor registry wired), NOT_FOUND (a company the registry does not
    hold). Rule: R26; R27 (the e-signature date is the unit's rule in force)."""
    registry = registry_of(deps)
    if registry is None:
        raise DomainError(Reason.INVALID_INPUT, "فهرست پیمانکاران به این فرایند وصل نیست")
    unit_name = deps.policy.unit(unit).name
    notices = []
    for company_id in company_ids:
        company = registry.company(company_id)
        if company is None:
            raise DomainError(Reason.NOT_FOUND, f"شرکت {company_id} در فهرست پیمانکاران نیست")
        key = company.national_id
        notices.append(Notice(key, key, Template.TOKEN_REQUIRED,
                              {"name": company.name, "deadline": deadline, "support": support},
                              event_key("token_required", unit, key)))
        notices.append(Notice(key, key, Template.ESIGNATURE_REQUIRED,
                              {"name": company.name, "effective_date": effective_date, "unit": unit_name,
                               "support": support},
                              event_key("esignature_required", f"{unit}/{effective_date.isoformat()}", key)))
    return notices


def notify_tender(deps: Deps, tender_id: str) -> Delivery:
    """`deliver(tender_notices(...))`. Raises: what those raise."""
    return deliver(deps, tender_notices(deps, tender_id))


def notify_contract(deps: Deps, tracking_number: str) -> Delivery:
    """`deliver(contract_notices(...))`. Raises: what those raise."""
    return deliver(deps, contract_notices(deps, tracking_number))


def gaps(deps: Deps, recipient: str | None = None) -> list[dict[str, Any]]:
    """The notifications recorded as reaching nobody (oldest first): dedup key, recipient, company,
    template, when (UTC ISO and Jalali)."""
    with deps.uow() as uow:
        rows: list[m.NotificationGap] = list(support_of(uow).gaps(recipient))
    return [{"dedup": r.dedup_key, "recipient": r.recipient_id, "company": r.company_id, "template": r.template,
             "noted_at": r.noted_at.isoformat(), "noted_at_jalali": format_jalali_datetime(r.noted_at)}
            for r in rows]


def _reason_fa(code: str | None) -> str:
    if not code:
        return "بدون علت ثبت‌شده"
    try:
        return Reason(code).message_fa
    except ValueError:
        return code
