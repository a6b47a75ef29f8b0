"""Reports (R15, R24, and refused payments): one shape for the CLI table, --json, Excel and the flow.

A `Report` is a title, columns (key + Persian header) and rows of plain values: numbers stay
numbers so Excel sums them, dates are Jalali strings. Each column's kind (`kinds`: "amount",
"count", "percent", "jalali", else text) and the machine-readable columns Excel keeps hidden
(`machine_columns`, ISO dates) tell render.excel.write_report how to show them.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

import jdatetime
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from config.policy import Policy
from domain.clock import Clock
from domain.contract.fields import THRESHOLD_CLASSES, threshold_class
from domain.contract.payment import FINAL_STAGE
from domain.persian import TEHRAN, format_jalali_date, format_jalali_datetime, jalali_year, persian_digits
from domain.reasons import DomainError, Reason
from store.models import Contract
from store.uow import UnitOfWork

UNCLASSIFIED = "unclassified"
CLASS_FA = {"small": "کوچک", "medium": "متوسط", "large": "بزرگ", UNCLASSIFIED: "نامشخص"}
PAYMENT_REFUSED_ACTION = "payment.refused"


@dataclass
class Report:
    """A report as a table: columns (key, Persian header) and rows of plain values (rials as int, Jalali text)."""

    kind: str
    title: str
    columns: list[tuple[str, str]]  # (key, Persian header)
    rows: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # key -> render.excel kind; text when absent
    machine_columns: list[tuple[str, str]] = field(default_factory=list)  # Excel only, hidden: ISO dates

    def headers(self) -> list[str]:
        """The Persian column headers, in column order. Raises: nothing. R15, R24."""
        return [h for _, h in self.columns]

    def values(self) -> list[list[Any]]:
        """Each row's values in column order (None where a row has no value). Raises: nothing. R15, R24."""
        return [[row.get(k) for k, _ in self.columns] for row in self.rows]

    def to_dict(self) -> dict[str, Any]:
        return {"report": self.kind, "title": self.title, **self.meta, "rows": self.rows}


# --- Jalali months ---------------------------------------------------------------------

def jalali_month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """[start, end) of a Jalali month in Tehran wall time, as aware UTC datetimes.

    Raises: INVALID_INPUT (month outside 1..12, year outside 1300..1999). Serves R15.
    """
    if not 1 <= month <= 12:
        raise DomainError(Reason.INVALID_INPUT, f"ماه باید بین ۱ و ۱۲ باشد: «{month}»")
    if not 1300 <= year <= 1999:
        raise DomainError(Reason.INVALID_INPUT, f"سال شمسی نامعتبر: «{year}»")
    nxt = (year + 1, 1) if month == 12 else (year, month + 1)

    def start(y: int, m: int) -> datetime:
        g = jdatetime.date(y, m, 1).togregorian()
        return datetime(g.year, g.month, g.day, tzinfo=TEHRAN).astimezone(timezone.utc)

    return start(year, month), start(*nxt)


def previous_jalali_month(now: datetime) -> tuple[int, int]:
    """(Jalali year, month) of the last complete Jalali month before `now` (aware; Tehran calendar).

    What a scheduled run reports. Raises: nothing. Serves R15.
    """
    today = jdatetime.date.fromgregorian(date=now.astimezone(TEHRAN).date())
    return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


# --- R15: concluded and in-progress contracts per unit and threshold class ----------------

def _started_at(contract: Contract, data: dict[str, Any], first_approval: datetime | None) -> datetime | None:
    """When a contract entered the system: recorded creation, its first approval, else its contract day."""
    for key in ("created_at", "registered_at"):
        if data.get(key):
            try:
                value = datetime.fromisoformat(str(data[key]))
                return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
            except ValueError:
                pass
    if first_approval is not None:
        return first_approval
    if data.get("contract_date_gregorian"):
        day = datetime.fromisoformat(str(data["contract_date_gregorian"]))
        return day.replace(tzinfo=TEHRAN).astimezone(timezone.utc)
    return contract.concluded_at


def _klass(contract: Contract, tables: dict[int, tuple[int, int]]) -> str:
    if contract.threshold_class in THRESHOLD_CLASSES:
        return contract.threshold_class
    if contract.concluded_at is not None:
        try:
            return threshold_class(contract.amount_rial, jalali_year(contract.concluded_at), tables)
        except DomainError:
            pass
    return UNCLASSIFIED


def monthly_report(sessions: sessionmaker, policy: Policy, year: int, month: int,
                   unit: str | None = None) -> Report:
    """R15: per unit and threshold class, contracts concluded in the month and in progress at its end.

    Concluded: stage final with concluded_at inside the month. In progress: entered the system
    before the month ended and not concluded by then (still open, or concluded later). The month is
    Jalali, bounded in Tehran wall time. Rows: one per unit (all policy units, or `unit`) and class
    (small, medium, large, and "unclassified" when a contract has none); meta: the period and totals.
    Raises: INVALID_INPUT (bad year or month), UNKNOWN_UNIT (unit not in the policy). Serves R15.
    """
    start, end = jalali_month_bounds(year, month)
    units = [policy.unit(unit)] if unit else list(policy.units)
    unit_ids = [u.id for u in units]
    tables = {y: (t.small_max, t.medium_max) for y, t in policy.thresholds.items()}
    concluded: Counter[tuple[str, str]] = Counter()
    in_progress: Counter[tuple[str, str]] = Counter()
    with UnitOfWork(sessions) as uow:
        first_approval = uow.reports.first_approvals(unit_ids)
        for c in uow.reports.contracts_open_or_concluded_since(unit_ids, start):
            key = (c.unit_id, _klass(c, tables))
            concluded_at = c.concluded_at if c.stage == FINAL_STAGE else None
            if concluded_at is not None and start <= concluded_at < end:
                concluded[key] += 1
                continue
            if concluded_at is not None and concluded_at < start:
                continue
            begun = _started_at(c, _payload(c.data_json), first_approval.get(c.id))
            if begun is None or begun < end:
                in_progress[key] += 1
    classes = list(THRESHOLD_CLASSES)
    if any(k[1] == UNCLASSIFIED for k in (*concluded, *in_progress)):
        classes.append(UNCLASSIFIED)
    rows = [{"unit": u.id, "unit_name": u.name, "threshold_class": k, "threshold_class_fa": CLASS_FA[k],
             "concluded": concluded[(u.id, k)], "in_progress": in_progress[(u.id, k)]}
            for u in units for k in classes]
    totals = {k: {"concluded": sum(concluded[(u, k)] for u in unit_ids),
                  "in_progress": sum(in_progress[(u, k)] for u in unit_ids)} for k in classes}
    period = f"{year:04d}/{month:02d}"
    return Report(
        kind="monthly", title=f"گزارش ماهانهٔ قراردادها — {period}",
        columns=[("unit", "شناسهٔ واحد"), ("unit_name", "واحد"), ("threshold_class_fa", "نصاب"),
                 ("concluded", "منعقدشده در ماه"), ("in_progress", "در جریان")],
        rows=rows,
        meta={"year": year, "month": month, "from": format_jalali_date(start),
              "to": format_jalali_date(end), "unit": unit, "totals": totals},
        kinds={"concluded": "count", "in_progress": "count"})


# --- refused payments -------------------------------------------------------------------

def refused_payments_report(sessions: sessionmaker) -> Report:
    """Refused payment attempts with their reason codes: the audit log's refusals and refused payments.

    An attempt recorded both ways (same reference, reason and time) is listed once. Rows by time
    then reference; amounts in rials (None when not recorded); times ISO UTC and Jalali Tehran.
    Raises: nothing of its own. Serves R13 and R20 (refusals are reported with their reason codes).
    """
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    with UnitOfWork(sessions) as uow:
        for p in uow.reports.refused_payments():
            seen.add((p.ref, p.reason or "", p.at.isoformat()))
            rows.append(_refusal_row("payment", p.at, p.ref, p.reason, p.amount_rial, p.payment_key, None))
        for e in uow.reports.refusals_logged(PAYMENT_REFUSED_ACTION):
            payload = _payload(e.payload_json)
            ref = str(payload.get("ref") or e.entity_id)
            if (ref, e.reason or "", e.at.isoformat()) in seen:
                continue
            amount = payload.get("amount_rial")
            rows.append(_refusal_row("audit", e.at, ref, e.reason,
                                     amount if isinstance(amount, int) else None,
                                     payload.get("payment_key"), payload.get("detail"), actor=e.actor))
    rows.sort(key=lambda r: (r["at"], r["ref"]))
    by_reason = Counter(r["reason"] for r in rows)
    return Report(
        kind="refused-payments", title="تلاش‌های پرداخت ردشده",
        columns=[("at_jalali", "زمان"), ("ref", "مرجع"), ("reason", "کد دلیل"), ("reason_fa", "دلیل"),
                 ("amount_rial", "مبلغ (ریال)"), ("source", "منبع")],
        rows=rows, meta={"count": len(rows), "by_reason": dict(sorted(by_reason.items()))},
        kinds={"at_jalali": "jalali", "amount_rial": "amount"},
        machine_columns=[("at", "زمان (UTC، ISO 8601)")])


def _payload(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _refusal_row(source: str, at: datetime, ref: str, reason: str | None, amount: int | None,
                 payment_key: str | None, detail: Any, actor: str | None = None) -> dict[str, Any]:
    try:
        reason_fa = Reason(reason).message_fa if reason else None
    except ValueError:  # a code this version does not know is still shown as recorded
        reason_fa = None
    return {"source": source, "at": at.isoformat(), "at_jalali": format_jalali_datetime(at), "ref": ref,
            "reason": reason, "reason_fa": reason_fa, "amount_rial": amount, "payment_key": payment_key,
            "detail": detail, "actor": actor}


# --- R24: construction projects -------------------------------------------------------------

class ProjectFigures(Protocol):
    def project_figures(self, unit: str | None = None) -> list[dict[str, Any]]:
        """Each project's figures (the keys of PROJECT_COLUMNS, rials as int, progress as Decimal text).

        Raises: SQLAlchemyError when project control's tables are missing or unreachable. R24."""
        ...


PROJECT_COLUMNS = [
    ("project_code", "کد پروژه"), ("title", "عنوان"), ("unit", "واحد"),
    ("physical_progress_pct", "پیشرفت فیزیکی (٪)"), ("planned_progress_pct", "پیشرفت برنامه‌ای (٪)"),
    ("start_date_jalali", "تاریخ شروع"), ("planned_end_date_jalali", "تاریخ پایان برنامه‌ای"),
    ("credits_rial", "اعتبار (ریال)"), ("commitments_rial", "تعهدات (ریال)"),
    ("statements_total_rial", "جمع صورت‌وضعیت‌ها (ریال)"), ("costs_rial", "هزینه‌ها (ریال)"),
    ("contracts_count", "تعداد قراردادها"),
]
PROJECT_KINDS = {"physical_progress_pct": "percent", "planned_progress_pct": "percent",
                 "start_date_jalali": "jalali", "planned_end_date_jalali": "jalali",
                 "credits_rial": "amount", "commitments_rial": "amount", "statements_total_rial": "amount",
                 "costs_rial": "amount", "contracts_count": "count"}
PROJECT_MACHINE_COLUMNS = [("start_date", "تاریخ شروع (ISO 8601)"),
                           ("planned_end_date", "تاریخ پایان برنامه‌ای (ISO 8601)")]


def project_control_source(engine: Any, clock: Clock) -> ProjectFigures | None:
    """The project-control adapter on `engine` (an SQLAlchemy Engine) when it is installed; None otherwise.

    Whether its tables exist is found out when projects_report asks. Raises: nothing. Serves R24.
    """
    try:
        from integrations.stubs.project_control import ProjectControlStub
        from integrations.transactions_api import InMemoryTransactionsSystem
    except ImportError:
        return None
    # project_figures only reads project control's own tables; the transactions side is not consulted.
    return ProjectControlStub(engine, InMemoryTransactionsSystem(), clock)


def projects_report(sessions: sessionmaker, source: ProjectFigures | None = None,
                    unit: str | None = None) -> Report:
    """R24: construction projects' figures from project control; the store's final contracts without it.

    Rows: project code, title, unit, physical and planned progress (percent, float), dates (Jalali),
    credits, commitments, statement totals and costs (rials), the number of contracts; meta `source`
    says which side answered ("project_control" or "transactions"). Raises: nothing of its own (an
    unreachable or unmigrated project control falls back to the store). Serves R24.
    """
    figures: list[dict[str, Any]] | None = None
    origin = "project_control"
    if source is not None:
        try:
            figures = source.project_figures(unit)
        except SQLAlchemyError:  # adapter present but its tables not migrated or unreachable: fall back
            figures = None
    if figures is None:
        figures, origin = _figures_from_store(sessions, unit), "transactions"
    rows = [_project_row(f) for f in figures]
    return Report(kind="projects", title="داده‌های پروژه‌های عمرانی", columns=PROJECT_COLUMNS, rows=rows,
                  meta={"source": origin, "unit": unit, "count": len(rows)},
                  kinds=PROJECT_KINDS, machine_columns=PROJECT_MACHINE_COLUMNS)


def _project_row(f: dict[str, Any]) -> dict[str, Any]:
    row = dict(f)
    for key in ("physical_progress_pct", "planned_progress_pct"):
        if row.get(key) is not None:
            row[key] = float(row[key])  # Decimal strings from the adapter: a number in Excel
    row["contracts_count"] = len(f.get("contracts") or [])
    return row


def contract_subject(data: dict[str, Any]) -> str:
    """A contract's subject where each path stores it: registered with workflow under
    `fields.subject` (services.contract.registration), imported from legacy files as `subject`."""
    fields = data.get("fields")
    nested = fields.get("subject") if isinstance(fields, dict) else None
    return str(nested or data.get("subject") or data.get("title") or "")


def _figures_from_store(sessions: sessionmaker, unit: str | None) -> list[dict[str, Any]]:
    with UnitOfWork(sessions) as uow:
        contracts = uow.reports.final_contracts(unit)
        totals = uow.reports.approved_statement_totals([c.id for c in contracts])
    out = []
    for c in contracts:
        data = _payload(c.data_json)
        ref = c.code or c.tracking_number
        count, total = totals.get(c.id, (0, 0))
        start = c.concluded_at
        out.append({
            "project_code": ref, "title": contract_subject(data), "unit": c.unit_id,
            "physical_progress_pct": None, "planned_progress_pct": None,
            "start_date": start.date().isoformat() if start else None,
            "start_date_jalali": format_jalali_date(start) if start else None,
            "planned_end_date": None, "planned_end_date_jalali": None,
            "credits_rial": None, "commitments_rial": c.amount_rial, "statements_count": count,
            "statements_total_rial": total, "costs_rial": None,
            "contracts": [{"contract_code": c.code, "tracking_number": c.tracking_number,
                           "amount_rial": c.amount_rial, "contractor_company_id": c.contractor_id,
                           "budget_line": c.budget_line, "expense_factor": c.expense_factor,
                           "statements_total_rial": total}],
        })
    return out


# --- outputs ---------------------------------------------------------------------------

def cell_text(value: Any, persian: bool) -> str:
    """A cell for people: "—" for nothing, integers (rials, counts) with thousands separators, Persian
    digits and separator when `persian`. Raises: nothing. Serves R15, R24 (the CLI table, the artifact)."""
    if value is None:
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        text = f"{value:,}"
        return persian_digits(text).replace(",", "٬") if persian else text
    return persian_digits(value) if persian else str(value)


def markdown_table(report: Report, persian: bool = True) -> str:
    """The report as a Markdown table with its title (the Prefect artifact); Persian digits by default.

    Raises: nothing. Serves R15.
    """
    def esc(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [f"## {report.title}", "",
             "| " + " | ".join(esc(h) for h in report.headers()) + " |",
             "|" + "---|" * len(report.columns)]
    lines += ["| " + " | ".join(esc(cell_text(v, persian)) for v in row) + " |" for row in report.values()]
    return "\n".join(lines) + "\n"


def table_rows(report: Report, persian: bool) -> Iterable[list[str]]:
    """The report's rows as cell text (cell_text), for the CLI table. Raises: nothing. Serves R15, R24."""
    for row in report.values():
        yield [cell_text(v, persian) for v in row]



@contextmanager
def store_at(database_url: str | None = None) -> Iterator[tuple[sessionmaker, Policy]]:
    """A short-lived connection to the application database (the settings' URL when None) and the
    policy in force, for report runs that are given a database URL; disposed on exit."""
    from config.policy import load_policy
    from config.settings import get_settings
    from store.db import make_engine, session_factory

    settings = get_settings()
    engine = make_engine(database_url or settings.resolved_database_url())
    try:
        yield session_factory(engine), load_policy(settings.policy_file)
    finally:
        engine.dispose()
