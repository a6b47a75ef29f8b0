"""The events a contract's life emits to the workflow engine, so that its flows start by themselves
(issue 13 part 3; prefect.yaml `triggers:`). Each event names one resource and carries ids only: the
tender id, the contract's tracking number and code, a stage name, a statement's ref and id, a payment
ref. Never a key, a PIN, a signature or a document's content: what happened is read from the store by
the flow the event starts, which resumes from what is stored (a second event changes nothing done).

    event                             resource                          emitted by                 starts
    eproc.tender.contracted           eproc.tender.<tender id>          the tender's run           contract-registration
    eproc.contract.stage-approved     eproc.contract.<tracking number>  the API (a stage approved) contract-registration
    eproc.statement.submitted         eproc.statement.<statement id>    the API (the contractor)   status-statements
    eproc.statement.approved          eproc.statement.<statement id>    the API (the last signer)  status-statements
    eproc.payment.requested           eproc.statement.<statement id>    the API (the treasurer's   payments
                                                                        signature approving it)
    eproc.payment.receipt-recorded    eproc.statement.<statement id>    the payment flow           status-statements

Without an orchestrator (rehearsals, in-process runs) nothing is emitted. Emitting never fails the
step that caused it: the person's action is already committed, and the engine being down costs only
the automatic start (the flow can be run by hand with the same ids)."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from services.deps import Deps
from services.transactions_view import statement_key

TENDER_CONTRACTED = "eproc.tender.contracted"
STAGE_APPROVED = "eproc.contract.stage-approved"
STATEMENT_SUBMITTED = "eproc.statement.submitted"
STATEMENT_APPROVED = "eproc.statement.approved"
PAYMENT_REQUESTED = "eproc.payment.requested"
RECEIPT_RECORDED = "eproc.payment.receipt-recorded"
EVENTS = (TENDER_CONTRACTED, STAGE_APPROVED, STATEMENT_SUBMITTED, STATEMENT_APPROVED, PAYMENT_REQUESTED,
          RECEIPT_RECORDED)
# The only labels an event may carry (each value an id: letters, digits, - _ / . : and Persian digits).
ID_LABELS = ("tender-id", "bidder", "tracking-number", "contract-code", "stage", "statement-ref", "statement-id",
             "payment-ref")
_ID = re.compile(r"^[\w\-/.:۰-۹]{1,120}$")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ContractEvent:
    """One event: its name, the resource id (`eproc.<kind>.<id>`) and the ids it carries (label ->
    value; labels from `ID_LABELS`). What `Orchestrator.emit` receives."""

    event: str
    resource_id: str
    ids: dict[str, str]


def _event(event: str, resource_id: str, **ids: str | None) -> ContractEvent:
    carried = {k.replace("_", "-"): str(v) for k, v in ids.items() if v}
    bad = [k for k, v in carried.items() if k not in ID_LABELS or not _ID.match(v)]
    if event not in EVENTS or bad:  # a programming error: an event carries ids only
        raise ValueError(f"event {event}: not an id label or value: {bad}")
    return ContractEvent(event, resource_id, carried)


def tender_contracted(tender_id: str, bidder: str) -> ContractEvent:
    """The winner (or the runner-up) signed the contract: the tender is `contracted` (art. 18)."""
    return _event(TENDER_CONTRACTED, f"eproc.tender.{tender_id}", tender_id=tender_id, bidder=bidder)


def stage_approved(tender_id: str, tracking_number: str, stage: str, code: str | None) -> ContractEvent:
    """An approval of `stage` of the contract was recorded (the code once `final`; R12, R13)."""
    return _event(STAGE_APPROVED, f"eproc.contract.{tracking_number}", tender_id=tender_id,
                  tracking_number=tracking_number, stage=stage, contract_code=code)


def _statement(event: str, tender_id: str, tracking_number: str, code: str | None, ref: str,
               payment_ref: str | None = None) -> ContractEvent:
    sid = statement_key(tracking_number, ref)
    return _event(event, f"eproc.statement.{sid}", tender_id=tender_id, tracking_number=tracking_number,
                  contract_code=code, statement_ref=ref, statement_id=sid, payment_ref=payment_ref)


def statement_submitted(tender_id: str, tracking_number: str, code: str | None, ref: str) -> ContractEvent:
    """The contractor's statement `ref` was received and computed; its path signs it next (R17)."""
    return _statement(STATEMENT_SUBMITTED, tender_id, tracking_number, code, ref)


def statement_approved(tender_id: str, tracking_number: str, code: str | None, ref: str) -> ContractEvent:
    """Statement `ref` was signed by its whole path and settled approved: it is payable (R17, R18)."""
    return _statement(STATEMENT_APPROVED, tender_id, tracking_number, code, ref)


def payment_requested(tender_id: str, tracking_number: str, code: str | None, ref: str,
                      payment_ref: str) -> ContractEvent:
    """Payment `payment_ref` of statement `ref` was requested (R13, R28)."""
    return _statement(PAYMENT_REQUESTED, tender_id, tracking_number, code, ref, payment_ref)


def receipt_recorded(tender_id: str, tracking_number: str, code: str | None, ref: str,
                     payment_ref: str) -> ContractEvent:
    """The financial system's record of payment `payment_ref` of statement `ref` is stored."""
    return _statement(RECEIPT_RECORDED, tender_id, tracking_number, code, ref, payment_ref)


def emit(deps: Deps, event: ContractEvent) -> None:
    """Tell the workflow engine (`deps.orchestrator`); nothing without one. Never raises: a failure is
    logged (by event name and error type only)."""
    if deps.orchestrator is None:
        return
    try:
        deps.orchestrator.emit(event.event, event.resource_id, dict(event.ids))
    except Exception as exc:  # noqa: BLE001 - the action is committed; the flow can be started by hand
        log.warning("event %s not emitted: %s", event.event, type(exc).__name__)


def payment_ref_for(ref: str) -> str:
    """The payment ref a statement's own payment takes when nobody named another (`<ref>-pay`)."""
    return f"{ref}-pay"


__all__ = ["EVENTS", "ID_LABELS", "PAYMENT_REQUESTED", "RECEIPT_RECORDED", "STAGE_APPROVED", "STATEMENT_APPROVED",
           "STATEMENT_SUBMITTED", "TENDER_CONTRACTED", "ContractEvent", "emit", "payment_ref_for",
           "payment_requested", "receipt_recorded", "stage_approved", "statement_approved", "statement_submitted",
           "tender_contracted"]
