"""Completeness checks (R31): the monthly counts the treasurers and legal units declare against the
system's, each unit's correction inbox week by week against its deadline, and the republication of a
record already published once it is completed or corrected.

- `check`: a declaration file (docs/completeness.md) for one Jalali month, compared with the R15
  monthly counts (services.reports.monthly_report: concluded in the month and in progress at its end,
  per unit and threshold class, the class from domain.contract.fields.threshold_class). The check is
  one audit entry (`completeness.checked`, entity `completeness_period`, id `YYYY/MM`) holding what was
  declared and every difference, so the correction inbox is rebuilt from the append-only log.
- `inbox`: per unit, the differences still open and the legacy rows waiting in the R16 correction
  inbox, with the weekly progress of domain.reports.completeness.weekly_progress against the policy's
  `[completeness] correction_days`.
- `republish`: a correction of a final contract's data, audited, and the record published again on
  the transparency site (an OCDS `contractAmendment` release naming the release it amends; a record
  refused for missing fields is published for the first time once complete).
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import sessionmaker

from config.policy import Policy
from domain.clock import Clock
from domain.contract.workflow import FINAL
from domain.persian import format_jalali_date, normalize
from domain.reasons import DomainError, Reason
from domain.reports.completeness import (
    KIND_FA,
    MEASURES,
    SOURCES,
    BadLine,
    Declared,
    Difference,
    InboxEntry,
    Progress,
    compare_counts,
    correction_deadline,
    declared_line,
    weekly_progress,
)
from integrations import ocds
from integrations.transparency import TransparencyPublisher
from services.csv_files import read_csv_file
from services.deps import Deps
from services.legacy import corrections
from services.reports import CLASS_FA, monthly_report
from store.completeness_queries import completeness_queries
from store.uow import UnitOfWork, record_refusal

CHECKED = "completeness.checked"
PERIOD_ENTITY = "completeness_period"
CORRECTED = "contract.corrected"
REPUBLISHED = "contract.republished"
# Column names of a declaration file, English keys or the Persian headers people write.
HEADER_ALIASES = {"واحد": "unit", "شناسه واحد": "unit", "منبع": "source", "نصاب": "threshold_class",
                  "حد نصاب": "threshold_class", "منعقدشده": "concluded", "منعقد شده": "concluded",
                  "در جریان": "in_progress", "در جریان انعقاد": "in_progress"}
# What a correction may not change: identity, amount and class (a new registration, not a correction).
_NOT_CORRECTABLE = frozenset({"contract_code", "tracking_number", "contractor_national_id", "amount_rial",
                              "threshold_class", "unit"})


# --- the monthly check -------------------------------------------------------------------------

@dataclass
class CheckResult:
    """One check: the period, the file and its SHA-256, what was declared, every difference (grouped
    by unit in `by_unit`), and the lines that could not be read (line number, reason code, detail)."""

    year: int
    month: int
    file: str
    sha256: str
    declared: list[Declared]
    differences: list[Difference]
    bad_lines: list[BadLine]
    checked_at: datetime
    units: list[str] = field(default_factory=list)

    @property
    def period(self) -> str:
        return f"{self.year:04d}/{self.month:02d}"

    def by_unit(self) -> dict[str, list[Difference]]:
        """The differences of each unit that declared anything (empty list: the counts agree)."""
        out: dict[str, list[Difference]] = {u: [] for u in self.units}
        for d in self.differences:
            out.setdefault(d.unit, []).append(d)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, "file": self.file, "sha256": self.sha256,
                "checked_at": self.checked_at.isoformat(),
                "units": {u: [difference_dict(d) for d in diffs] for u, diffs in self.by_unit().items()},
                "differences": len(self.differences),
                "bad_lines": [{"line": b.line, "reason": b.reason.value, "detail": b.detail} for b in self.bad_lines]}


def difference_dict(d: Difference) -> dict[str, Any]:
    """A difference as plain values, with its Persian description. Raises: nothing. Rule: R31."""
    return {"unit": d.unit, "source": d.source, "source_fa": SOURCES[d.source], "threshold_class": d.threshold_class,
            "threshold_class_fa": CLASS_FA.get(d.threshold_class, d.threshold_class), "measure": d.measure,
            "measure_fa": MEASURES[d.measure], "declared": d.declared, "counted": d.counted, "kind": d.kind,
            "kind_fa": KIND_FA[d.kind], "reason": d.reason.value if d.reason else None}


def read_declarations(path: Path | str, policy: Policy) -> tuple[list[Declared], list[BadLine], str]:
    """The declared counts of a declaration file (CSV, UTF-8, header first; docs/completeness.md),
    every unreadable line reported with its number and reason code, and the file's SHA-256.

    Raises: INVALID_INPUT (file missing or not UTF-8 text), FIELD_MISSING (a mandatory column absent
    from the header: unit, source, threshold_class, and at least one of concluded / in_progress).
    Rule: R31."""
    header, rows, digest = read_csv_file(path, "پروندهٔ اعلام تعداد")
    keys = [HEADER_ALIASES.get(normalize(h).strip(), normalize(h).strip().lower()) for h in header]
    missing = [k for k in ("unit", "source", "threshold_class") if k not in keys]
    if not any(k in keys for k in MEASURES):
        missing.append("concluded|in_progress")
    if missing:
        raise DomainError(Reason.FIELD_MISSING, ", ".join(missing), fields=",".join(missing))
    units = [u.id for u in policy.units]
    declared: list[Declared] = []
    bad: list[BadLine] = []
    for number, cells in enumerate(rows, start=2):
        if not any(c.strip() for c in cells):
            continue
        try:
            declared += declared_line(dict(zip(keys, cells, strict=False)), number, units)
        except DomainError as exc:
            bad.append(BadLine(number, exc.reason, exc.message_fa))
    return declared, bad, digest


def system_counts(sessions: sessionmaker, policy: Policy, year: int, month: int) -> dict[tuple[str, str, str], int]:
    """(unit, class, measure) -> the system's count for the Jalali month: the R15 monthly report's
    concluded and in-progress contracts (one home for how the system counts them).

    Raises: INVALID_INPUT (bad year or month). Rule: R31 (against R15's counts)."""
    report = monthly_report(sessions, policy, year, month)
    out: dict[tuple[str, str, str], int] = {}
    for row in report.rows:
        for measure in MEASURES:
            out[(row["unit"], row["threshold_class"], measure)] = int(row[measure])
    return out


def check(path: Path | str, year: int, month: int, *, sessions: sessionmaker, policy: Policy, clock: Clock,
          actor: str = "cli") -> CheckResult:
    """Compare a month's declared counts (treasurers' and legal units') with the system's, list the
    differences per unit, and audit the check (`completeness.checked`, id `YYYY/MM`) with what was
    declared and found, so each difference enters (and later leaves) the unit's correction inbox.
    A line that cannot be read is reported (line number, reason code) and the rest still checked.

    Raises: INVALID_INPUT (the file, the year or month), FIELD_MISSING (a mandatory column).
    Rule: R31 (s128 item 1.1)."""
    declared, bad, sha = read_declarations(path, policy)
    counted = system_counts(sessions, policy, year, month)
    differences = compare_counts(declared, counted)
    now = clock.now()
    units = sorted({d.unit for d in declared})
    result = CheckResult(year, month, Path(path).name, sha, declared, differences, bad, now, units)
    with UnitOfWork(sessions) as uow:
        uow.record(at=now, actor=actor, action=CHECKED, entity=PERIOD_ENTITY, entity_id=result.period,
                   payload={"file": result.file, "sha256": sha,
                            "declared": sorted({(d.unit, d.source) for d in declared}),
                            "differences": [difference_dict(d) for d in differences],
                            "bad_lines": [[b.line, b.reason.value] for b in bad]})
        uow.commit()
    return result


# --- the correction inbox ----------------------------------------------------------------------

@dataclass
class OpenItem:
    """A difference in a unit's correction inbox: period, the difference (plain values), when it was
    first found and when a later check found it gone (aware UTC; None while open), and its deadline."""

    period: str
    difference: dict[str, Any]
    opened_at: datetime
    resolved_at: datetime | None
    deadline: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, **self.difference, "opened_at": self.opened_at.isoformat(),
                "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
                "deadline": self.deadline.isoformat(), "deadline_jalali": format_jalali_date(self.deadline)}


@dataclass
class UnitInbox:
    """A unit's correction inbox: the completeness differences (open and resolved), the count of
    legacy rows open in the R16 inbox, and the weekly progress against the deadline."""

    unit: str
    items: list[OpenItem]
    legacy_open: int
    progress: Progress

    def to_dict(self) -> dict[str, Any]:
        p = self.progress
        return {"unit": self.unit, "status": p.status, "open": p.open, "resolved": p.resolved,
                "legacy_open": self.legacy_open,
                "started_at": p.started_at.isoformat() if p.started_at else None,
                "deadline": p.deadline.isoformat() if p.deadline else None,
                "deadline_jalali": format_jalali_date(p.deadline) if p.deadline else None,
                "weeks": [{"week": w.number, "ends_at": w.ends_at.isoformat(),
                           "ends_jalali": format_jalali_date(w.ends_at), "opened": w.opened,
                           "resolved": w.resolved, "open": w.open, "allowed_open": w.allowed_open,
                           "on_track": w.on_track} for w in p.weeks],
                "items": [i.to_dict() for i in self.items if i.resolved_at is None]}


def _correction_days(policy: Policy) -> int:
    if policy.completeness is None:
        raise DomainError(Reason.POLICY_INVALID, "[completeness] correction_days تعریف نشده است")
    return policy.completeness.correction_days


def _items(sessions: sessionmaker, days: int) -> Iterator[tuple[str, OpenItem]]:
    """(unit, item) for every difference any check found, rebuilt from the checks in log order: a
    difference opens at the first check that finds it and is resolved by the first later check of
    the same period in which its unit and source declared again and it was not found."""
    with UnitOfWork(sessions) as uow:
        entries = completeness_queries(uow).logged(CHECKED)
    state: dict[tuple[str, ...], OpenItem] = {}
    done: list[tuple[str, OpenItem]] = []
    for e in entries:
        payload = json.loads(e.payload_json or "{}")
        period = e.entity_id
        at = e.at
        declared = {tuple(x) for x in payload.get("declared") or []}
        found: dict[tuple[str, ...], dict[str, Any]] = {}
        for d in payload.get("differences") or []:
            found[(period, d["unit"], d["source"], d["threshold_class"], d["measure"])] = d
        for key, item in list(state.items()):
            if key[1:3] in declared and key not in found:
                item.resolved_at = at
                done.append((key[1], item))
                del state[key]
        for key, d in found.items():
            if key in state:
                state[key].difference = d
            else:
                state[key] = OpenItem(period, d, at, None, correction_deadline(at, days))
    yield from done
    for key, item in state.items():
        yield key[1], item


def inbox(sessions: sessionmaker, policy: Policy, clock: Clock, unit: str | None = None) -> list[UnitInbox]:
    """Each unit's correction inbox (one unit's with `unit`): the differences the completeness checks
    found, open or resolved, the legacy rows open in its R16 inbox, and the weekly progress of all of
    them against its deadline (policy `[completeness] correction_days` from when each was found).
    Units with nothing ever to correct are left out unless asked for by name.

    Raises: UNKNOWN_UNIT, POLICY_INVALID (no [completeness] in the policy). Rule: R31 (s111, s117)."""
    if unit is not None:
        policy.unit(unit)
    days = _correction_days(policy)
    now = clock.now()
    items: dict[str, list[OpenItem]] = defaultdict(list)
    for u, item in _items(sessions, days):
        if unit is None or u == unit:
            items[u].append(item)
    legacy: dict[str, list[InboxEntry]] = defaultdict(list)
    legacy_open: dict[str, int] = defaultdict(int)
    for row in corrections(sessions, unit, include_resolved=True):
        legacy[row.unit].append(InboxEntry(row.created_at, row.resolved_at))
        legacy_open[row.unit] += row.resolved_at is None
    names = sorted(set(items) | set(legacy) | ({unit} if unit else set()))
    out = []
    for u in names:
        mine = sorted(items.get(u, []), key=lambda i: (i.opened_at, i.period))
        entries = [InboxEntry(i.opened_at, i.resolved_at) for i in mine] + legacy.get(u, [])
        out.append(UnitInbox(u, mine, legacy_open.get(u, 0), weekly_progress(entries, days, now)))
    return out


# --- republishing a completed or corrected record ----------------------------------------------

@dataclass(frozen=True)
class Republished:
    """What republishing did: the contract code, the status (published | unchanged | skipped |
    refused), the new release id, the release it amends (None for a first publication), the OCDS tag
    and the reason code of a refusal."""

    contract_code: str
    status: str
    release_id: str | None
    amends: str | None
    tag: str
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"contract_code": self.contract_code, "status": self.status, "release_id": self.release_id,
                "amends": self.amends, "tag": self.tag, "reason": self.reason}


def _apply(row: Any, data: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    fields = data.setdefault("fields", {})
    before: dict[str, Any] = {}
    for key, value in changes.items():
        if key in _NOT_CORRECTABLE or (key not in fields and key not in ("budget_line", "expense_factor")):
            raise DomainError(Reason.INVALID_INPUT, f"فیلد «{key}» با اصلاح تغییر نمی‌کند")
        clean = normalize(value) if isinstance(value, str) else value
        if key in ("budget_line", "expense_factor"):
            before[key] = getattr(row, key)
            setattr(row, key, clean)
        before.setdefault(key, fields.get(key))
        if key in fields:
            fields[key] = clean
    return before


def _publication_data(deps: Deps, row: Any, is_deal: bool) -> dict[str, Any]:
    if is_deal:
        from services.realestate.registration import publication_data as deal_data

        return deal_data(deps, row.tracking_number)
    from services.contract.publication import publication_data

    if row.tender_id is None:
        raise DomainError(Reason.INVALID_INPUT, f"قرارداد {row.code} از فرایند این سامانه نیست و منتشر نمی‌شود")
    return publication_data(deps, row.tender_id)


def republish(deps: Deps, code: str, publisher: TransparencyPublisher, changes: Mapping[str, Any],
              rationale: str, actor: str) -> Republished:
    """Correct a final contract's data (`changes`: field -> new value, the keys of its stored fields,
    or budget_line / expense_factor; none: republish as it stands, e.g. once completed) and publish
    the record again (R31): the correction is kept and audited (`contract.corrected`, with the values
    before), then the record is published: one already published gets a new release tagged
    `contractAmendment` whose amendment names the release it amends and the rationale; one never
    published (refused for a missing field) is published as a `contract` release. Unchanged data
    publishes nothing new (`unchanged`); the site's refusal is audited and returned (`refused`, its
    reason code), the correction staying in the store for the next attempt.

    Raises: NOT_FOUND (no contract with that code), CONTRACT_NOT_FINAL, INVALID_INPUT (a field a
    correction may not change, a blank rationale). Rule: R31 (s111 item 1-4, s117), R21."""
    if not normalize(rationale or ""):
        raise DomainError(Reason.INVALID_INPUT, "دلیل اصلاح (rationale) خالی است")
    now = deps.clock.now()
    with deps.uow() as uow:
        row = uow.contracts.by_code(code)
        if row is None:
            raise DomainError(Reason.NOT_FOUND, f"قراردادی با کد «{code}» نیست")
        if row.stage != FINAL:
            raise DomainError(Reason.CONTRACT_NOT_FINAL, f"قرارداد {code}")
        is_deal = uow.real_estate.for_contract(row.id) is not None
        data = json.loads(row.data_json or "{}")
        if changes:
            before = _apply(row, data, changes)
            row.data_json = json.dumps(data, ensure_ascii=False, sort_keys=True)
            uow.record(at=now, actor=actor, action=CORRECTED, entity="contract", entity_id=row.tracking_number,
                       payload={"code": code, "changes": dict(changes), "before": before,
                                "rationale": normalize(rationale)})
            uow.commit()
    previous = dict(data.get("publication") or {})
    amends = previous.get("release_id") if previous.get("status") == "published" else None
    history = list(data.get("amendments") or [])
    tag = "contractAmendment" if amends else "contract"
    try:
        contract_data = _publication_data(deps, row, is_deal)
        if history:
            contract_data["amendments"] = history
        if amends and ocds.release_for_contract(contract_data)["id"] == amends:
            return Republished(code, "unchanged", amends, amends, tag)  # the site already shows this data
        if amends:
            history.append({"id": f"{code}-amendment-{len(history) + 1}", "date": now.isoformat(),
                            "rationale": normalize(rationale), "amends_release_id": amends})
            contract_data["amendments"] = history
        result = publisher.publish(contract_data)
    except DomainError as exc:
        record_refusal(deps.sessions, exc, at=now, actor=actor, action="contract.republication_refused",
                       entity="contract", entity_id=row.tracking_number, payload={"code": code})
        return Republished(code, "refused", None, amends, tag, exc.reason.value)
    status = "unchanged" if result.already_published else result.status
    with deps.uow() as uow:
        stored = uow.contracts.by_code(code)
        assert stored is not None  # read above; contracts are never deleted
        d = json.loads(stored.data_json or "{}")
        if status == "published":
            d["publication"] = {**previous, "status": "published", "release_id": result.release_id,
                                "ocid": result.ocid, "missing_fields": [], "reason": None}
            if amends:
                d["amendments"] = history
            stored.data_json = json.dumps(d, ensure_ascii=False, sort_keys=True)
        uow.record(at=now, actor=actor, action=REPUBLISHED, entity="contract", entity_id=stored.tracking_number,
                   payload={"code": code, "status": status, "release_id": result.release_id, "amends": amends,
                            "tag": tag})
        uow.commit()
    return Republished(code, status, result.release_id, amends, tag)
