"""Legacy contract migration (R16, R21).

Rows of the old contracts system (CSV or .xlsx) are streamed, validated one by one and written
in batches: good rows become contracts (`LEG-<unit code>-<legacy id>`), bad rows land in the
correction inbox of their unit with every problem found, in Persian with its reason code.
Nothing is held for the whole file, so a file of any size imports in constant memory.
Re-importing a file is harmless: a row whose contract already exists with the same data is
counted as "already imported"; one whose legacy id exists with other data goes to the inbox.
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

from sqlalchemy import Table, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from config.policy import Policy
from domain.clock import Clock
from domain.contract.code import parse_contract_code, validate_contract_code
from domain.contract.fields import COMMON_FIELDS, GENERAL, missing_fields, publishable, threshold_class
from domain.identity import validate_company_id, validate_economic_code, validate_national_id
from domain.persian import TEHRAN, format_jalali_date, jalali_year, normalize, parse_amount_rial, \
    parse_int, parse_jalali_date
from domain.reasons import DomainError, Reason
from store import audit
from store.legacy_models import CorrectionInboxRow, LegacyContract, LegacyImport
from store.models import Contract, Unit

BATCH_SIZE = 2_000
UNASSIGNED = "unassigned"  # inbox of rows that name no unit at all
LEGACY_STAGE = "legacy"
FINAL_STAGE = "final"

LIST_FIELDS = ("employer_signatories", "commission_members", "contractor_signatories")
PERSON_FIELDS = ("contractor_ceo", "supervisor")
TEXT_LIMITS = {"budget_line": 60, "expense_factor": 60, "selection_method": 200, "subject": 1000}
OPTIONAL_COLUMNS = ("status", "contract_code")

FIELD_LABELS: dict[str, str] = {
    "legacy_id": "شناسهٔ قرارداد در سامانهٔ قدیم",
    **COMMON_FIELDS,
    "status": "وضعیت قرارداد",
    "contract_code": "کد قرارداد",
}

_ALIASES: dict[str, tuple[str, ...]] = {
    "legacy_id": ("legacy id", "legacy contract id", "id", "شناسه", "شناسه قدیمی", "شناسه قرارداد",
                  "شناسه قرارداد قدیمی", "شماره قرارداد قدیمی"),
    "unit": ("unit", "unit id", "unit code", "کد واحد", "شناسه واحد", "منطقه", "واحد سازمانی"),
    "subject": ("subject", "title", "موضوع", "عنوان قرارداد"),
    "contractor_national_id": ("contractor national id", "contractor id", "company national id",
                               "شناسه ملی شرکت", "شناسه ملی پیمانکار"),
    "contractor_economic_code": ("contractor economic code", "economic code", "کد اقتصادی"),
    "contractor_grade": ("grade", "contractor grade", "رتبه"),
    "contractor_ceo": ("ceo", "contractor ceo", "ceo national id", "مدیرعامل", "کد ملی مدیرعامل"),
    "contractor_signatories": ("contractor signatories", "امضاکنندگان شرکت"),
    "contract_date": ("contract date", "date", "تاریخ"),
    "contract_amount_rial": ("amount", "amount rial", "contract amount", "مبلغ", "مبلغ قرارداد ریال",
                             "مبلغ (ریال)", "مبلغ قرارداد (ریال)"),
    "selection_method": ("selection method", "روش انتخاب", "روش انجام معامله"),
    "supervisor": ("supervisor", "supervisor national id", "کد ملی ناظر"),
    "employer_signatories": ("employer signatories", "امضاکنندگان"),
    "commission_members": ("commission members", "اعضای کمیسیون"),
    "budget_line": ("budget line",),
    "expense_factor": ("expense factor",),
    "status": ("status", "stage", "وضعیت", "مرحله", "وضعیت قرارداد"),
    "contract_code": ("contract code", "code", "کد قرارداد"),
}

_FINAL_WORDS = {"final", "finalized", "concluded", "نهایی", "نهایی شده", "منعقد شده", "منعقدشده", "قطعی"}
_LEGACY_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-./]*$")
_LIST_SPLIT = re.compile(r"[،;؛,\n]")
_KEY_DROP = re.compile("[\\s_\\-.()\u200c\u0654]")


def _key(text: object) -> str:
    return _KEY_DROP.sub("", normalize(str(text)).lower())


HEADER_MAP: dict[str, str] = {}
for _name, _aliases in _ALIASES.items():
    for _alias in (_name, *_aliases, FIELD_LABELS[_name]):
        HEADER_MAP[_key(_alias)] = _name


# --- result ----------------------------------------------------------------------------

@dataclass
class UnitSummary:
    imported: int = 0
    already_imported: int = 0
    to_correct: int = 0
    not_publishable: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"imported": self.imported, "already_imported": self.already_imported,
                "to_correct": self.to_correct, "not_publishable": self.not_publishable}


@dataclass
class ImportResult:
    import_id: int
    file: str
    rows: int = 0
    units: dict[str, UnitSummary] = field(default_factory=lambda: defaultdict(UnitSummary))

    def totals(self) -> UnitSummary:
        total = UnitSummary()
        for s in self.units.values():
            total.imported += s.imported
            total.already_imported += s.already_imported
            total.to_correct += s.to_correct
            total.not_publishable += s.not_publishable
        return total

    def to_dict(self) -> dict[str, Any]:
        return {"import_id": self.import_id, "file": self.file, "rows": self.rows,
                "totals": self.totals().to_dict(),
                "units": {u: s.to_dict() for u, s in sorted(self.units.items())}}


# --- reading ---------------------------------------------------------------------------

def read_rows(path: Path | str, unit_column: str | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """(spreadsheet row number, {canonical field: cell text}) for every non-blank data row, streamed."""
    path = Path(path)
    if not path.exists():
        raise DomainError(Reason.INVALID_INPUT, f"پرونده پیدا نشد: {path}")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path)
    elif path.suffix.lower() in (".csv", ".txt"):
        rows = _csv_rows(path)
    else:
        raise DomainError(Reason.INVALID_INPUT, f"قالب پرونده پشتیبانی نمی‌شود (CSV یا xlsx): {path.name}")
    try:
        header = next(rows, None)
        if header is None:
            raise DomainError(Reason.INVALID_INPUT, f"پرونده خالی است: {path.name}")
        columns = [(i, name, _list_text if name in LIST_FIELDS else _text)
                   for i, name in map_header(header, unit_column).items()]
        for number, cells in enumerate(rows, start=2):
            width = len(cells)
            row = {name: (to_text(cells[i]) if i < width else "") for i, name, to_text in columns}
            if any(row.values()):
                yield number, row
    finally:
        rows.close()


def map_header(header: Iterable[Any], unit_column: str | None = None) -> dict[int, str]:
    """Column index -> canonical field; FIELD_MISSING naming every mandatory column absent."""
    columns: dict[int, str] = {}
    unit_key = _key(unit_column) if unit_column else None
    for i, title in enumerate(header):
        if _blank(title):
            continue
        k = _key(title)
        if unit_key is not None:
            if k == unit_key:
                columns[i] = "unit"
                continue
            if HEADER_MAP.get(k) == "unit":
                continue  # the named column replaces the default unit column
        name = HEADER_MAP.get(k)
        if name is not None and name not in columns.values():
            columns[i] = name
    absent = [n for n in FIELD_LABELS if n not in OPTIONAL_COLUMNS and n != "threshold_class"
              and n not in columns.values()]
    if absent:
        raise DomainError(Reason.FIELD_MISSING, "ستون‌های لازم در سرستون پرونده نیست: "
                          + "، ".join(f"{FIELD_LABELS[n]} ({n})" for n in absent), fields=",".join(absent))
    return columns


def _csv_rows(path: Path) -> Iterator[list[Any]]:
    # utf-8-sig drops the BOM Excel writes; newline="" lets csv handle quoted line breaks.
    with path.open(encoding="utf-8-sig", newline="") as f:
        try:
            first = f.readline()
            delimiter = max((",", ";", "\t"), key=first.count)
            f.seek(0)
            yield from csv.reader(f, delimiter=delimiter)
        except UnicodeDecodeError as exc:
            raise DomainError(Reason.INVALID_INPUT, f"پرونده با UTF-8 خوانده نمی‌شود: {exc}") from None


def _xlsx_rows(path: Path) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a broken file
        raise DomainError(Reason.INVALID_INPUT, f"پروندهٔ Excel خوانده نمی‌شود: {exc}") from None
    try:
        for row in wb.worksheets[0].iter_rows(values_only=True):
            yield list(row)
    finally:
        wb.close()


def estimate_rows(path: Path | str) -> int | None:
    """Data rows, for the progress bar: newlines of a CSV, the sheet dimension of an xlsx."""
    path = Path(path)
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            from openpyxl import load_workbook

            wb = load_workbook(path, read_only=True)
            try:
                max_row = wb.worksheets[0].max_row
            finally:
                wb.close()
            return max(max_row - 1, 0) if max_row else None
        count = 0
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                count += chunk.count(b"\n")
        return max(count - 1, 0)
    except OSError:
        return None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- validation ------------------------------------------------------------------------

@dataclass(frozen=True)
class UnitRef:
    id: str
    code: str


@dataclass
class ValidRow:
    row_number: int
    unit_id: str
    legacy_id: str
    tracking_number: str
    code: str | None
    stage: str
    threshold_class: str
    amount_rial: int
    contractor_id: str
    budget_line: str
    expense_factor: str
    concluded_at: datetime | None
    publishable: bool
    data_json: str
    row_sha256: str


@dataclass
class BadRow:
    row_number: int
    unit_id: str
    legacy_id: str | None
    problems: list[dict[str, str]]
    row: dict[str, Any]
    row_sha256: str


def problem(field_name: str, error: DomainError) -> dict[str, str]:
    return {"field": field_name, "field_fa": FIELD_LABELS.get(field_name, field_name),
            "reason": error.reason.value, "message": error.message_fa}


def _cached(fn: Callable[[str], Any]) -> Callable[[str], tuple[Any, DomainError | None]]:
    """Memoise a validator, errors included: legacy files repeat the same people and dates."""
    @lru_cache(maxsize=4_096)
    def run(value: str) -> tuple[Any, DomainError | None]:
        try:
            return fn(value), None
        except DomainError as exc:
            return None, exc
    return run


@dataclass(frozen=True)
class DayInfo:
    jalali: str
    iso: str
    jalali_year: int
    concluded_at: datetime  # Tehran midnight of the contract day, in UTC
    publishable: bool


def _day(text: str) -> DayInfo:
    day = parse_jalali_date(text)
    return DayInfo(jalali=format_jalali_date(day), iso=day.isoformat(), jalali_year=jalali_year(day),
                   concluded_at=datetime(day.year, day.month, day.day, tzinfo=TEHRAN).astimezone(timezone.utc),
                   publishable=publishable(day))


def _positive_amount(text: str) -> int:
    amount = parse_amount_rial(text, "مبلغ قرارداد")
    if amount <= 0:
        raise DomainError(Reason.AMOUNT_OUT_OF_RANGE, "مبلغ قرارداد باید بیش از صفر باشد")
    return amount


def _contractor_grade(text: str) -> int:
    grade = parse_int(text, "رتبه")
    if not 1 <= grade <= 5:
        raise DomainError(Reason.INVALID_INPUT, f"رتبهٔ پیمانکار باید ۱ تا ۵ باشد: «{grade}»")
    return grade


_national_id = _cached(validate_national_id)
_company_id = _cached(validate_company_id)
_economic_code = _cached(validate_economic_code)
_date_info = _cached(_day)
_amount = _cached(_positive_amount)
_grade = _cached(_contractor_grade)
_contract_code = _cached(validate_contract_code)
_normalize_cached = lru_cache(maxsize=4_096)(normalize)
# What normalize() would change besides outer whitespace; text without it skips the regex work.
_NEEDS_NORMALIZE = re.compile("[۰-۹٠-٩يىكۀة\u200b-\u200f\ufeff\u00ad\u00a0\u2009\u202f\t]|  ")


def _normalize(text: str) -> str:
    return _normalize_cached(text) if _NEEDS_NORMALIZE.search(text) else text.strip()


def _text(value: Any) -> str:
    """A cell as normalised text; spreadsheet numbers lose their spurious `.0`."""
    if value.__class__ is str:  # every CSV cell: the hot path
        return value.strip() if value.isascii() and "  " not in value else _normalize(value)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return format_jalali_date(value)  # a real date cell is Gregorian; the system speaks Jalali
    text = str(value)
    return text.strip() if text.isascii() and "  " not in text else _normalize(text)


def _list_text(value: Any) -> str:
    """A list cell is split before its items are checked: normalising the whole cell is wasted work."""
    if value is None:
        return ""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value).strip()


class RowValidator:
    """Everything a row is checked against: the policy's units and thresholds."""

    def __init__(self, policy: Policy) -> None:
        self.units: dict[str, UnitRef] = {}
        for u in policy.units:
            ref = UnitRef(u.id, u.code)
            for alias in (u.id, u.code, u.name):
                self.units[_key(alias)] = ref
            if u.code.isdigit():
                self.units[str(int(u.code))] = ref  # "2" for code "02"
        self.tables = {year: (t.small_max, t.medium_max) for year, t in policy.thresholds.items()}
        # Bounded by the handful of distinct spellings a legacy export uses.
        self._unit_cache: dict[str, UnitRef | None] = {}
        self._final_cache: dict[str, bool] = {}

    def unit(self, raw: str) -> UnitRef | None:
        if raw not in self._unit_cache:
            self._unit_cache[raw] = self.units.get(_key(raw)) if raw else None
        return self._unit_cache[raw]

    def validate(self, row_number: int, raw: Mapping[str, str]) -> ValidRow | BadRow:
        """raw: a row of read_rows (text cells, list cells unsplit)."""
        problems: list[dict[str, str]] = []
        data: dict[str, Any] = {name: raw.get(name, "") for name in COMMON_FIELDS}
        for name in LIST_FIELDS:
            data[name] = [p.strip() for p in _LIST_SPLIT.split(data[name]) if p.strip()]
        data["threshold_class"] = "pending"  # computed below; its own problems name amount or date
        if not all(data.values()):  # missing_fields is the rule; this only skips it for complete rows
            for name in missing_fields(GENERAL, data):
                problems.append(problem(name, DomainError(Reason.FIELD_MISSING, FIELD_LABELS[name])))

        legacy_id = raw.get("legacy_id", "").replace(" ", "")
        unit_raw = raw.get("unit", "")
        unit = self.unit(unit_raw)
        if not legacy_id:
            problems.insert(0, problem("legacy_id", DomainError(Reason.FIELD_MISSING, FIELD_LABELS["legacy_id"])))
        elif not _LEGACY_ID_RE.match(legacy_id) or len(legacy_id) > _max_legacy_id(unit):
            problems.append(problem("legacy_id", DomainError(
                Reason.INVALID_INPUT, f"شناسهٔ قدیمی «{legacy_id}» فقط حروف لاتین، رقم و - / . _ و حداکثر "
                                      f"{_max_legacy_id(unit)} نویسه")))
        if unit_raw and unit is None:
            problems.append(problem("unit", DomainError(Reason.UNKNOWN_UNIT, f"«{unit_raw}»")))
        if unit is not None:
            data["unit"] = unit.id

        self._identifiers(data, problems)
        if data["contractor_grade"]:
            grade, err = _grade(data["contractor_grade"])
            if err:
                problems.append(problem("contractor_grade", err))
            else:
                data["contractor_grade"] = grade
        day = amount = None
        if data["contract_date"]:
            day, err = _date_info(data["contract_date"])
            if err:
                problems.append(problem("contract_date", err))
        if data["contract_amount_rial"]:
            amount, err = _amount(data["contract_amount_rial"])
            if err:
                problems.append(problem("contract_amount_rial", err))
        klass = None
        if day is not None and amount is not None:
            try:
                klass = threshold_class(amount, day.jalali_year, self.tables)
            except DomainError as exc:
                problems.append(problem("threshold_class", exc))
        for name, limit in TEXT_LIMITS.items():
            if len(data[name]) > limit:
                problems.append(problem(name, DomainError(Reason.INVALID_INPUT, f"بیش از {limit} نویسه")))
        code = self._code(raw.get("contract_code", ""), unit, problems)

        if problems:
            return BadRow(row_number, unit.id if unit else (unit_raw[:64] or UNASSIGNED), legacy_id or None,
                          problems, raw, _sha256(_dump(raw)))

        assert unit is not None and day is not None and amount is not None and klass is not None
        status = raw.get("status", "")
        stage = FINAL_STAGE if self._final(status) else LEGACY_STAGE
        data.update(contract_date=day.jalali, contract_date_gregorian=day.iso, contract_amount_rial=amount,
                    threshold_class=klass, legacy_id=legacy_id, legacy_status=status or None, source="legacy",
                    publishable=day.publishable)
        data_json = _contract_json(data)
        return ValidRow(row_number=row_number, unit_id=unit.id, legacy_id=legacy_id,
                        tracking_number=f"LEG-{unit.code}-{legacy_id}", code=code, stage=stage,
                        threshold_class=klass, amount_rial=amount, contractor_id=data["contractor_national_id"],
                        budget_line=data["budget_line"], expense_factor=data["expense_factor"],
                        concluded_at=day.concluded_at if stage == FINAL_STAGE else None,
                        publishable=day.publishable, data_json=data_json,
                        row_sha256=_sha256(f"{data_json}|{stage}|{code or ''}"))

    def _final(self, status: str) -> bool:
        if status not in self._final_cache:
            self._final_cache[status] = _key(status) in _FINAL_KEYS
        return self._final_cache[status]

    @staticmethod
    def _identifiers(data: dict[str, Any], problems: list[dict[str, str]]) -> None:
        for name, check in (("contractor_national_id", _company_id), ("contractor_economic_code", _economic_code)):
            if data[name]:
                value, err = check(data[name])
                if err:
                    problems.append(problem(name, err))
                else:
                    data[name] = value
        for name in PERSON_FIELDS:
            if data[name]:
                value, err = _national_id(data[name])
                if err:
                    problems.append(problem(name, err))
                else:
                    data[name] = value
        for name in LIST_FIELDS:
            checked = []
            for nid in data[name]:
                value, err = _national_id(nid)
                if err:
                    problems.append(problem(name, err))
                else:
                    checked.append(value)
            data[name] = checked if len(checked) == len(data[name]) else data[name]

    @staticmethod
    def _code(raw: str, unit: UnitRef | None, problems: list[dict[str, str]]) -> str | None:
        if not raw:
            return None
        code, err = _contract_code(raw)
        if err:
            problems.append(problem("contract_code", err))
            return None
        if unit is not None and parse_contract_code(code)[0] != unit.code.upper():
            problems.append(problem("contract_code", DomainError(
                Reason.INVALID_INPUT, f"کد قرارداد «{code}» از آنِ واحد دیگری است، نه {unit.id}")))
            return None
        return code


_FINAL_KEYS = {_key(w) for w in _FINAL_WORDS}


def _max_legacy_id(unit: UnitRef | None) -> int:
    # "LEG-<unit code>-<legacy id>" must fit the tracking number's 40 characters.
    return 40 - len("LEG--") - len(unit.code if unit else "00")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


# --- writing ---------------------------------------------------------------------------

_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _dump(value: Any) -> str:
    return _ENCODER.encode(value)


_esc = json.encoder.encode_basestring  # type: ignore[attr-defined]  # quoted, escaped, non-ASCII kept


def _ids(values: list[str]) -> str:
    return '["' + '","'.join(values) + '"]' if values else "[]"


def _contract_json(d: dict[str, Any]) -> str:
    """_dump(d) of a validated row, byte for byte, at a fraction of the cost (it runs once per row).

    Validated identifiers are digits only and dates have a fixed shape, so only free text is escaped.
    """
    status = "null" if d["legacy_status"] is None else _esc(d["legacy_status"])
    return (f'{{"budget_line":{_esc(d["budget_line"])},"commission_members":{_ids(d["commission_members"])},'
            f'"contract_amount_rial":{d["contract_amount_rial"]:d},"contract_date":"{d["contract_date"]}",'
            f'"contract_date_gregorian":"{d["contract_date_gregorian"]}","contractor_ceo":"{d["contractor_ceo"]}",'
            f'"contractor_economic_code":"{d["contractor_economic_code"]}",'
            f'"contractor_grade":{d["contractor_grade"]:d},"contractor_national_id":"{d["contractor_national_id"]}",'
            f'"contractor_signatories":{_ids(d["contractor_signatories"])},'
            f'"employer_signatories":{_ids(d["employer_signatories"])},"expense_factor":{_esc(d["expense_factor"])},'
            f'"legacy_id":{_esc(d["legacy_id"])},"legacy_status":{status},'
            f'"publishable":{"true" if d["publishable"] else "false"},'
            f'"selection_method":{_esc(d["selection_method"])},"source":{_esc(d["source"])},'
            f'"subject":{_esc(d["subject"])},"supervisor":"{d["supervisor"]}",'
            f'"threshold_class":"{d["threshold_class"]}","unit":{_esc(d["unit"])}}}')


CONTRACT_COLUMNS = ("tracking_number", "code", "tender_id", "unit_id", "kind", "stage", "threshold_class",
                    "amount_rial", "contractor_id", "budget_line", "expense_factor", "concluded_at", "data_json")
PROVENANCE_COLUMNS = ("tracking_number", "import_id", "unit_id", "legacy_id", "row_number", "row_sha256")


def bulk_insert(session: Session, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """executemany straight through the driver, inside the session's transaction.

    SQLAlchemy's per-row parameter handling costs more than the database write itself at this
    volume; the columns' own bind processors (aware UTC datetimes) still apply.
    """
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    quote = dialect.identifier_preparer.quote
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
           f"VALUES ({', '.join([mark] * len(columns))})")
    processors = [(i, p) for i, c in enumerate(columns) if (p := table.c[c].type.bind_processor(dialect))]
    if processors:
        rows = [_processed(row, processors) for row in rows]
    conn.exec_driver_sql(sql, rows)


def _processed(row: tuple[Any, ...], processors: list[tuple[int, Callable[[Any], Any]]]) -> tuple[Any, ...]:
    values = list(row)
    for i, process in processors:
        values[i] = process(values[i])
    return tuple(values)


def _conflict(kind: str, detail: str) -> dict[str, str]:
    labels = {"legacy_id": "legacy_id", "code": "contract_code"}
    return problem(labels[kind], DomainError(Reason.INVALID_INPUT, detail))


class _Writer:
    """Writes one batch per transaction; retried whole if a concurrent import won a race."""

    def __init__(self, sessions: sessionmaker, import_id: int, clock: Clock, result: ImportResult) -> None:
        self.sessions = sessions
        self.import_id = import_id
        self.clock = clock
        self.result = result

    def flush(self, pending: list[ValidRow | BadRow]) -> None:
        if not pending:
            return
        for attempt in range(3):
            try:
                with self.sessions() as session:
                    counts = self._write(session, pending)
                    session.commit()
                break
            except IntegrityError:
                if attempt == 2:
                    raise
        for unit_id, (imported, already, bad, hidden) in counts.items():
            s = self.result.units[unit_id]
            s.imported += imported
            s.already_imported += already
            s.to_correct += bad
            s.not_publishable += hidden
        self.result.rows += len(pending)

    def _write(self, session: Session, pending: list[ValidRow | BadRow]) -> dict[str, list[int]]:
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        goods = [p for p in pending if isinstance(p, ValidRow)]
        bads = [p for p in pending if isinstance(p, BadRow)]
        known = dict(session.execute(
            select(Contract.tracking_number, LegacyContract.row_sha256)
            .outerjoin(LegacyContract, LegacyContract.tracking_number == Contract.tracking_number)
            .where(Contract.tracking_number.in_([g.tracking_number for g in goods]))).all()) if goods else {}
        codes = {g.code for g in goods if g.code}
        code_owner = dict(session.execute(select(Contract.code, Contract.tracking_number)
                                          .where(Contract.code.in_(sorted(codes)))).all()) if codes else {}
        new: list[ValidRow] = []
        for g in goods:
            if g.tracking_number in known:
                if known[g.tracking_number] == g.row_sha256:
                    counts[g.unit_id][1] += 1
                    continue
                bads.append(self._as_bad(g, _conflict("legacy_id", (
                    f"شناسهٔ قدیمی «{g.legacy_id}» در واحد {g.unit_id} تکراری است: قراردادی با همین شناسه "
                    f"و داده‌های دیگر پیش‌تر وارد شده است ({g.tracking_number})"))))
                continue
            owner = code_owner.get(g.code) if g.code else None
            if owner is not None and owner != g.tracking_number:
                bads.append(self._as_bad(g, _conflict("code", (
                    f"کد قرارداد «{g.code}» پیش‌تر به قرارداد {owner} داده شده است"))))
                continue
            known[g.tracking_number] = g.row_sha256
            if g.code:
                code_owner[g.code] = g.tracking_number
            new.append(g)
            counts[g.unit_id][0] += 1
            counts[g.unit_id][3] += 0 if g.publishable else 1
        if new:
            bulk_insert(session, Contract.__table__, CONTRACT_COLUMNS, [
                (g.tracking_number, g.code, None, g.unit_id, GENERAL, g.stage, g.threshold_class, g.amount_rial,
                 g.contractor_id, g.budget_line, g.expense_factor, g.concluded_at, g.data_json) for g in new])
            bulk_insert(session, LegacyContract.__table__, PROVENANCE_COLUMNS, [
                (g.tracking_number, self.import_id, g.unit_id, g.legacy_id, g.row_number, g.row_sha256)
                for g in new])
            self._resolve(session, new)
        if bads:
            self._inbox(session, bads)
            for b in bads:
                counts[b.unit_id][2] += 1
        return counts

    @staticmethod
    def _as_bad(g: ValidRow, prob: dict[str, str]) -> BadRow:
        row = {k: v for k, v in json.loads(g.data_json).items() if k not in ("source", "publishable")}
        return BadRow(g.row_number, g.unit_id, g.legacy_id, [prob], row, g.row_sha256)

    def _inbox(self, session: Session, bads: list[BadRow]) -> None:
        present = set(session.execute(select(CorrectionInboxRow.unit_id, CorrectionInboxRow.row_sha256)
                                      .where(CorrectionInboxRow.row_sha256.in_(sorted({b.row_sha256 for b in bads})))).all())
        now = self.clock.now()
        rows = []
        for b in bads:
            if (b.unit_id, b.row_sha256) in present:
                continue  # the same faulty row is already waiting in that unit's inbox
            present.add((b.unit_id, b.row_sha256))
            rows.append({"import_id": self.import_id, "unit_id": b.unit_id, "row_number": b.row_number,
                         "legacy_id": (b.legacy_id or None) and b.legacy_id[:100], "problems_json": _dump(b.problems),
                         "row_json": _dump(b.row), "row_sha256": b.row_sha256, "created_at": now})
        if rows:
            session.execute(CorrectionInboxRow.__table__.insert(), rows)

    def _resolve(self, session: Session, imported: list[ValidRow]) -> None:
        """A corrected row that now imports closes its unit's open inbox entries for that legacy id."""
        by_unit: dict[str, list[str]] = defaultdict(list)
        for g in imported:
            by_unit[g.unit_id].append(g.legacy_id)
        now = self.clock.now()
        for unit_id, ids in by_unit.items():
            session.execute(update(CorrectionInboxRow)
                            .where(CorrectionInboxRow.unit_id == unit_id, CorrectionInboxRow.legacy_id.in_(ids),
                                   CorrectionInboxRow.resolved_at.is_(None))
                            .values(resolved_at=now))


def _ensure_units(sessions: sessionmaker, policy: Policy, clock: Clock, actor: str) -> None:
    """Contracts reference the units table; the policy's units must be there first."""
    with sessions() as session:
        present = set(session.scalars(select(Unit.id)))
        missing = [u for u in policy.units if u.id not in present]
        for u in missing:
            session.add(Unit(id=u.id, code=u.code, name=normalize(u.name), kind=u.kind))
            audit.append(session, at=clock.now(), actor=actor, action="unit.add", entity="unit", entity_id=u.id)
        if missing:
            session.commit()


def import_contracts(path: Path | str, *, sessions: sessionmaker, policy: Policy, clock: Clock,
                     actor: str = "cli", unit_column: str | None = None, batch_size: int = BATCH_SIZE,
                     progress: Callable[[int], None] | None = None) -> ImportResult:
    """Import a legacy contracts file; returns per-unit counts. progress(n) after each batch of n rows."""
    path = Path(path)
    if batch_size < 1:
        raise DomainError(Reason.INVALID_INPUT, "اندازهٔ دسته باید مثبت باشد")
    rows = read_rows(path, unit_column)
    first = next(rows, None)  # header problems surface before anything is written
    _ensure_units(sessions, policy, clock, actor)
    with sessions() as session:
        record = LegacyImport(file_name=path.name[:300], file_sha256=_file_sha256(path), actor=actor,
                              started_at=clock.now())
        session.add(record)
        session.commit()
        import_id = record.id
    result = ImportResult(import_id=import_id, file=str(path))
    writer = _Writer(sessions, import_id, clock, result)
    validator = RowValidator(policy)
    pending: list[ValidRow | BadRow] = []

    def drain() -> None:
        writer.flush(pending)
        if progress:
            progress(len(pending))
        pending.clear()

    if first is not None:
        pending.append(validator.validate(*first))
    for number, cells in rows:
        pending.append(validator.validate(number, cells))
        if len(pending) >= batch_size:
            drain()
    drain()

    totals = result.totals()
    with sessions() as session:
        record = session.get(LegacyImport, import_id)
        record.finished_at = clock.now()
        record.rows_total = result.rows
        record.imported, record.already_imported, record.to_correct = (
            totals.imported, totals.already_imported, totals.to_correct)
        audit.append(session, at=clock.now(), actor=actor, action="legacy.import", entity="legacy_import",
                     entity_id=str(import_id), payload={"file": path.name, "sha256": record.file_sha256,
                                                        **result.to_dict()})
        session.commit()
    return result


# --- the correction inbox (R16) --------------------------------------------------------

def corrections(sessions: sessionmaker, unit: str | None = None, *, include_resolved: bool = False,
                limit: int | None = None) -> list[dict[str, Any]]:
    """A unit's inbox (every unit's without unit): open entries, oldest row first."""
    query = select(CorrectionInboxRow).order_by(CorrectionInboxRow.unit_id, CorrectionInboxRow.import_id,
                                                CorrectionInboxRow.row_number)
    if unit is not None:
        query = query.where(CorrectionInboxRow.unit_id == unit)
    if not include_resolved:
        query = query.where(CorrectionInboxRow.resolved_at.is_(None))
    if limit is not None:
        query = query.limit(limit)
    with sessions() as session:
        return [{"id": r.id, "unit": r.unit_id, "import_id": r.import_id, "row_number": r.row_number,
                 "legacy_id": r.legacy_id, "problems": json.loads(r.problems_json),
                 "row": json.loads(r.row_json), "created_at": r.created_at.isoformat(),
                 "created_at_jalali": format_jalali_date(r.created_at),
                 "resolved_at": r.resolved_at.isoformat() if r.resolved_at else None}
                for r in session.scalars(query)]
