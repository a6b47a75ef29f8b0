"""Receipts on income contracts (R30): the buyer or lessee pays the municipality; the financial system
records each receipt against the contract code (refused without a code or before `final`, as a
payment is) and the engine traces it to the lines of the contract's schedule (a lease's rent
schedule; a sale's single line), so late and short rent shows.

Every step reads the store first: a re-run never asks the financial system twice for one receipt.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.contract.income import (
    ReceiptShare,
    ReceiptTrace,
    schedule_status,
    trace_receipts,
)
from domain.contract.workflow import FINAL
from domain.persian import format_jalali_date, to_tehran
from domain.reasons import DomainError, Reason
from integrations.financial import IncomeReceipts, ReceiptRequest
from services.contract.document import contract_for
from services.contract.income import schedule_of
from services.contract.inputs import ReceiptOrder, inputs_for
from services.deps import Deps
from store import models as m

ENGINE_ACTOR = "engine"
RECORDED = "recorded"
REFUSED = "refused"


@dataclass(frozen=True)
class ReceiptOutcome:
    """A receipt's outcome: `recorded` or `refused` with its reason code, the amount (rials) and the
    schedule lines it settled [(seq, rials, late)]."""

    ref: str
    result: str
    reason: str | None
    amount_rial: int
    lines: tuple[tuple[int, int, bool], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "result": self.result, "reason": self.reason, "amount_rial": self.amount_rial,
                "lines": [{"seq": s, "amount_rial": a, "late": late} for s, a, late in self.lines]}


def receipt_key(tracking_number: str, ref: str) -> str:
    """Idempotency key (64 hex characters) of receipt `ref` of a contract. Raises nothing."""
    return hashlib.sha256(f"receipt:v1:{len(tracking_number)}:{tracking_number}:{ref}".encode()).hexdigest()


def _outcome(row: m.IncomeReceipt) -> ReceiptOutcome:
    lines = tuple((int(x["seq"]), int(x["amount_rial"]), bool(x["late"])) for x in json.loads(row.lines_json or "[]"))
    return ReceiptOutcome(row.ref, row.result, row.reason, row.amount_rial, lines)


def _traces(rows: list[m.IncomeReceipt]) -> list[ReceiptTrace]:
    out = []
    for row in rows:
        if row.result != RECORDED:
            continue
        o = _outcome(row)
        out.append(ReceiptTrace(row.ref, to_tehran(row.received_at).date(), row.amount_rial,
                                tuple(ReceiptShare(s, a, late) for s, a, late in o.lines)))
    return out


def record_receipt(deps: Deps, tender_id: str, ref: str) -> ReceiptOutcome:
    """Ask the financial system to record receipt `ref` of the tender's income contract (its time
    and amount from the contract inputs) and trace it to the schedule; the outcome is stored and
    audited. Idempotent: a receipt already settled is returned as it was.

    The contract code is checked first, by the financial system as for a payment (NO_CONTRACT_CODE,
    CONTRACT_NOT_FINAL); then the amount against what the schedule still has due (INVALID_INPUT).

    Raises: INVALID_INPUT (no such receipt in the inputs, no financial system with receipts, an
    expense contract). Refusals of the receipt itself are returned as its outcome. Rule: R30."""
    inputs = inputs_for(deps, tender_id)
    order: ReceiptOrder | None = next((r for r in inputs.receipts if r.ref == ref), None)
    if order is None:
        raise DomainError(Reason.INVALID_INPUT, f"دریافت «{ref}» در ورودی‌ها نیست")
    financial = deps.financial
    if not isinstance(financial, IncomeReceipts):
        raise DomainError(Reason.INVALID_INPUT, "سامانهٔ مالی این فرایند دریافت ثبت نمی‌کند")
    with deps.uow() as uow:
        contract = contract_for(uow, tender_id)
        done = uow.income_receipts.by_ref(contract.id, ref)
        earlier = list(uow.income_receipts.for_contract(contract.id))
    if done is not None:
        return _outcome(done)
    schedule = schedule_of(contract)  # an expense contract has none: INVALID_INPUT
    code = (contract.code or "") if order.contract_code == "from-award" else order.contract_code.strip()
    key = receipt_key(contract.tracking_number, ref)
    day = to_tehran(order.at).date()
    shares: tuple[ReceiptShare, ...] = ()
    try:
        if code and code != contract.code:
            raise DomainError(Reason.INVALID_INPUT, f"کد «{code}» کد این قرارداد ({contract.code}) نیست")
        if code == contract.code and contract.stage == FINAL:
            # The financial system checks the code first; the schedule only for a usable contract.
            prior = [(t.ref, t.day, t.amount_rial) for t in _traces(earlier)]
            shares = trace_receipts(schedule, [*prior, (ref, day, order.amount_rial)])[-1].shares
        financial.record_receipt(ReceiptRequest(receipt_key=key, contract_code=code, amount_rial=order.amount_rial,
                                                received_at=order.at))
    except DomainError as exc:
        return _save(deps, contract, order, key, code, REFUSED, exc, ())
    return _save(deps, contract, order, key, code, RECORDED, None, shares)


def _save(deps: Deps, contract: m.Contract, order: ReceiptOrder, key: str, code: str, result: str,
          exc: DomainError | None, shares: tuple[ReceiptShare, ...]) -> ReceiptOutcome:
    lines = [{"seq": s.seq, "amount_rial": s.amount_rial, "late": s.late} for s in shares]
    now = deps.clock.now()
    with deps.uow() as uow:
        row = uow.income_receipts.add(m.IncomeReceipt(
            contract_id=contract.id, ref=order.ref, receipt_key=key, contract_code=code,
            amount_rial=order.amount_rial, received_at=order.at, result=result,
            reason=exc.reason.value if exc else None, lines_json=json.dumps(lines)))
        uow.record(at=now, actor=ENGINE_ACTOR, action=f"receipt.{result}", entity="receipt",
                   entity_id=f"{contract.tracking_number}/{order.ref}", reason=exc.reason if exc else None,
                   payload={"ref": order.ref, "contract_code": code, "amount_rial": order.amount_rial,
                            "unit": contract.unit_id, "receipt_key": key, "lines": lines,
                            **({"detail": exc.detail} if exc else {})})
        uow.commit()
        return _outcome(row)


def timeline(deps: Deps, tender_id: str) -> list[tuple[datetime, str]]:
    """The receipts of the tender's contract inputs at their times (ties: input order). Raises: INVALID_INPUT."""
    inputs = inputs_for(deps, tender_id)
    return [(at, ref) for at, _, ref in sorted((r.at, i, r.ref) for i, r in enumerate(inputs.receipts))]


def receipts_report(deps: Deps, tender_id: str) -> dict[str, dict[str, Any]] | None:
    """Each settled receipt of the tender's contract: {"result", "reason", "lines": [schedule line
    numbers it settled]}; None when there is no contract or no receipt. Raises nothing."""
    with deps.uow() as uow:
        contract = uow.contracts.for_tender(tender_id)
        rows = list(uow.income_receipts.for_contract(contract.id)) if contract is not None else []
    if not rows:
        return None
    return {row.ref: {"result": row.result, "reason": row.reason,
                      "lines": [seq for seq, _, _ in _outcome(row).lines]} for row in rows}


def schedule_report(deps: Deps, tender_id: str, as_of: date) -> list[dict[str, Any]] | None:
    """The income contract's schedule as of the Tehran day `as_of`: each line's number, due day
    (Jalali), amount and amount received (rials), state (paid | paid_late | short | open) and the
    receipts that settled it; None for no contract or an expense one. Raises nothing. Rule: R30."""
    with deps.uow() as uow:
        contract = uow.contracts.for_tender(tender_id)
        rows = list(uow.income_receipts.for_contract(contract.id)) if contract is not None else []
    if contract is None:
        return None
    try:
        schedule = schedule_of(contract)
    except DomainError:
        return None
    return [{"seq": s.line.seq, "due": format_jalali_date(s.line.due), "amount_rial": s.line.amount_rial,
             "received_rial": s.received_rial, "status": s.state, "receipts": list(s.receipts)}
            for s in schedule_status(schedule, _traces(rows), as_of)]
