"""Reconciliation against the Treasury's records (R29): a Treasury statement file (CSV, one payment
per line; columns in docs/completeness.md) matched with the payments the system made in the same
period, every mismatch listed (domain.reports.treasury.reconcile) and every unreadable line reported
with its number and reason code, the rest of the file still reconciled. The run is audited
(`treasury.reconciled`) with its counts and the file's SHA-256.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import sessionmaker

from domain.clock import Clock
from domain.persian import TEHRAN, format_jalali_date
from domain.reasons import DomainError, Reason
from domain.reports.completeness import BadLine
from domain.reports.treasury import (
    Mismatch,
    SystemPayment,
    TreasuryLine,
    header_columns,
    read_line,
    reconcile,
)
from services.csv_files import read_csv_file
from store.completeness_queries import completeness_queries
from store.uow import UnitOfWork

RECONCILED = "treasury.reconciled"


@dataclass
class Reconciliation:
    """One reconciliation: the file and its SHA-256, the period compared (Tehran days, inclusive),
    lines read, system payments in the period, the mismatches and the unreadable lines."""

    file: str
    sha256: str
    first_day: date | None
    last_day: date | None
    lines: int
    system_payments: int
    mismatches: list[Mismatch]
    bad_lines: list[BadLine]

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file, "sha256": self.sha256,
            "from": format_jalali_date(self.first_day) if self.first_day else None,
            "to": format_jalali_date(self.last_day) if self.last_day else None,
            "lines": self.lines, "system_payments": self.system_payments,
            "by_kind": dict(sorted(Counter(m.kind for m in self.mismatches).items())),
            "mismatches": [{"kind": m.kind, "description": m.description_fa, "payment_key": m.payment_key,
                            "line": m.line, "treasury_rial": m.treasury_rial, "system_rial": m.system_rial,
                            "treasury_code": m.treasury_code, "system_code": m.system_code,
                            "reason": m.reason.value if m.reason else None} for m in self.mismatches],
            "bad_lines": [{"line": b.line, "reason": b.reason.value, "detail": b.detail} for b in self.bad_lines],
        }


def read_statement(path: Path | str) -> tuple[list[TreasuryLine], list[BadLine], str]:
    """The lines of a Treasury statement (CSV, UTF-8, header first), the unreadable ones with their
    number and reason code, and the file's SHA-256.

    Raises: INVALID_INPUT (file missing, empty or not UTF-8 text), FIELD_MISSING (a mandatory column
    absent from the header). Rule: R29."""
    header, rows, digest = read_csv_file(path, "صورت خزانه")
    keys = header_columns(header)
    lines: list[TreasuryLine] = []
    bad: list[BadLine] = []
    for number, cells in enumerate(rows, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(keys):
            bad.append(BadLine(number, Reason.INVALID_INPUT, f"{len(cells)} ستون؛ سرستون {len(keys)} ستون دارد"))
            continue
        try:
            lines.append(read_line(dict(zip(keys, cells, strict=False)), number))
        except DomainError as exc:
            bad.append(BadLine(number, exc.reason, exc.message_fa))
    return lines, bad, digest


def _tehran_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=TEHRAN)


def reconcile_statement(path: Path | str, *, sessions: sessionmaker, clock: Clock, first_day: date | None = None,
                        last_day: date | None = None, actor: str = "cli") -> Reconciliation:
    """Reconcile a Treasury statement with the system's payments of the period it covers: from
    `first_day` to `last_day` (Tehran days, inclusive; by default the first and last days of the
    file's readable lines). Returns the mismatches (missing in the system, missing in the Treasury,
    amount, contract code or payee differs, unknown contract code, a key on two lines) and the
    unreadable lines; audits the run as `treasury.reconciled`.

    Raises: INVALID_INPUT (the file; a period ending before it starts), FIELD_MISSING (a mandatory
    column). Rule: R29."""
    lines, bad, sha = read_statement(path)
    days = [t.day for t in lines]
    first = first_day or (min(days) if days else None)
    last = last_day or (max(days) if days else None)
    if first is not None and last is not None and last < first:
        raise DomainError(Reason.INVALID_INPUT, "پایان دوره پیش از آغاز آن است")
    payments: list[SystemPayment] = []
    with UnitOfWork(sessions) as uow:
        q = completeness_queries(uow)
        if first is not None and last is not None:
            for p in q.paid_between(_tehran_midnight(first), _tehran_midnight(last + timedelta(days=1))):
                payments.append(SystemPayment(p.payment_key, p.contract_code, p.amount_rial, p.contractor_id,
                                              p.at.astimezone(TEHRAN).date()))
        known = q.known_codes(t.contract_code for t in lines)
    in_period = [t for t in lines if first is None or last is None or first <= t.day <= last]
    mismatches = reconcile(in_period, payments, known)
    result = Reconciliation(Path(path).name, sha, first, last, len(lines) + len(bad), len(payments), mismatches, bad)
    with UnitOfWork(sessions) as uow:
        summary = result.to_dict()
        uow.record(at=clock.now(), actor=actor, action=RECONCILED, entity="treasury_statement", entity_id=sha[:16],
                   payload={k: summary[k] for k in ("file", "sha256", "from", "to", "lines", "system_payments",
                                                    "by_kind")} | {"bad_lines": len(bad)})
        uow.commit()
    return result
