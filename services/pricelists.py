"""Price lists and formulas approved by token (R09; issue 11 part 3).

1. An operator (the unit's contracts officer, `OPERATOR_ROLE`) imports a price-list version from a
   CSV or xlsx file (`read_price_file` on their station) as a PriceListImport document signed on
   their token; `import_price_list` stores it as *imported*: no tender can be priced from it yet.
2. The responsible deputy (`APPROVER_ROLE`) reads it (`price_list_status`), signs a
   PriceListApproval naming its items digest and the technical council's reference on their token;
   `approve_price_list` verifies that the digest is the imported content's, records the approval
   (signer, certificate, council reference, the signed XML) and only then writes the version to
   `price_lists`, which announcements price from.
3. Formulas are approved the same way (`approve_formula`): the expression approved is the versioned
   policy's (config/policy/default.toml), the approval writes the formula row announcements require.

The services.tender.files path accepts a price list or formula for a tender only with its recorded
approval; services.tender.announce refuses one that is not in the approved tables.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Generator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from domain.documents.pricelist import (
    DOMAINS,
    FormulaApproval,
    PriceItem,
    PriceListContent,
    check_domain,
    check_list_id,
    checked_items,
    expression_digest,
    items_digest,
    read_formula_approval,
    read_price_list_approval,
    read_price_list_import,
)
from domain.persian import parse_amount_rial
from domain.reasons import DomainError, Reason
from services.auth import VerifiedDocument
from services.deps import Deps
from services.legacy.read import header_key
from store import models as m

OPERATOR_ROLE = "contracts_officer"  # imports price lists and creates tenders for the unit
APPROVER_ROLE = "deputy"             # R09: only the responsible deputy approves price lists and formulas
PRICE_LIST, FORMULA = "price_list", "formula"
MAX_ITEMS = 100_000

_COLUMNS = {
    "code": ("code", "item code", "کد", "کد ردیف", "شماره ردیف", "کد فهرست بها"),
    "unit": ("unit", "unit of measure", "واحد", "واحد اندازه گیری", "واحد اندازه‌گیری"),
    "unit_price": ("unit price", "unit_price", "unit price rial", "price", "بهای واحد", "بهای واحد (ریال)",
                   "بهای واحد ریال", "قیمت واحد", "فی", "بها (ریال)"),
}
_HEADER = {header_key(alias): name for name, aliases in _COLUMNS.items() for alias in aliases}
_LABELS = {"code": "کد ردیف", "unit": "واحد", "unit_price": "بهای واحد (ریال)"}


@dataclass(frozen=True)
class ApprovalInfo:
    """A recorded approval: who signed (national ID, name, role@unit, certificate serial hex), when
    the engine received it (aware UTC) and the technical council's reference."""

    national_id: str
    name: str
    role: str
    unit: str
    cert_serial: str
    approved_at: datetime
    technical_council_ref: str

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "approved_at": self.approved_at.isoformat()}


@dataclass(frozen=True)
class PriceListStatus:
    """A price-list version as the engine holds it: its items (rials), their digest, who imported
    it and when, and its approval (None while it waits for the deputy)."""

    list_id: str
    version: int
    domain: str
    items: tuple[PriceItem, ...]
    items_sha256: str
    imported_by: str
    imported_at: datetime
    approval: ApprovalInfo | None = None

    @property
    def status(self) -> str:
        return "approved" if self.approval is not None else "imported"

    def to_dict(self) -> dict[str, Any]:
        return {"list_id": self.list_id, "version": self.version, "domain": self.domain, "status": self.status,
                "items": [asdict(i) for i in self.items], "items_sha256": self.items_sha256,
                "imported_by": self.imported_by, "imported_at": self.imported_at.isoformat(),
                "approval": self.approval.to_dict() if self.approval else None}


@dataclass(frozen=True)
class FormulaStatus:
    """A formula version of the policy and its approval (None until the deputy approves it)."""

    formula_id: str
    version: int
    expression: str
    expression_sha256: str
    approval: ApprovalInfo | None = None

    @property
    def status(self) -> str:
        return "approved" if self.approval is not None else "not_approved"

    def to_dict(self) -> dict[str, Any]:
        return {"formula_id": self.formula_id, "version": self.version, "expression": self.expression,
                "expression_sha256": self.expression_sha256, "status": self.status,
                "approval": self.approval.to_dict() if self.approval else None}


# --- the operator's station: reading the file --------------------------------------------------

def read_price_file(path: Path | str, list_id: str, version: int, domain: str) -> PriceListContent:
    """A price-list version from a CSV (UTF-8, `,` `;` or tab) or xlsx file whose header names the
    columns code, unit and unit price in rials (Persian or English titles: کد ردیف، واحد، بهای واحد).
    Prices are read with domain.persian.parse_amount_rial (Persian digits, grouping by threes).

    Raises: INVALID_INPUT (no such file, not CSV/xlsx, a column missing, a malformed row or id, a code
    twice, no rows); AMOUNT_OUT_OF_RANGE (a price of 0 or too large). Rule: R09 (uploaded price lists)."""
    path = Path(path)
    rows = _rows(path)
    try:
        header = next(rows, None)
        if header is None:
            raise DomainError(Reason.INVALID_INPUT, f"پرونده خالی است: {path.name}")
        columns: dict[str, int] = {}
        for i, title in enumerate(header):
            name = _HEADER.get(header_key(title)) if title is not None else None
            if name is not None and name not in columns:
                columns[name] = i
        absent = [_LABELS[n] for n in _COLUMNS if n not in columns]
        if absent:
            raise DomainError(Reason.INVALID_INPUT, "ستون‌های لازم در سرستون پرونده نیست: " + "، ".join(absent))
        items: list[PriceItem] = []
        for number, cells in enumerate(rows, start=2):
            cell = {name: _cell(cells[i]) if i < len(cells) else "" for name, i in columns.items()}
            if not any(cell.values()):
                continue
            if len(items) >= MAX_ITEMS:
                raise DomainError(Reason.INVALID_INPUT, f"فهرست بها بیش از {MAX_ITEMS} ردیف دارد")
            try:
                price = parse_amount_rial(cell["unit_price"], _LABELS["unit_price"])
            except DomainError as exc:
                raise DomainError(exc.reason, f"ردیف {number}: {exc.detail}") from None
            items.append(PriceItem(cell["code"], cell["unit"], price))
    finally:
        rows.close()
    return PriceListContent(check_list_id(list_id), version, check_domain(domain), checked_items(items))


def _rows(path: Path) -> Generator[list[Any], None, None]:
    if not path.is_file():
        raise DomainError(Reason.INVALID_INPUT, f"پرونده پیدا نشد: {path}")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(path)
    if suffix in (".csv", ".txt"):
        return _csv_rows(path)
    raise DomainError(Reason.INVALID_INPUT, f"قالب پرونده پشتیبانی نمی‌شود (CSV یا xlsx): {path.name}")


def _csv_rows(path: Path) -> Generator[list[Any], None, None]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        try:
            first = f.readline()
            f.seek(0)
            yield from csv.reader(f, delimiter=max((",", ";", "\t"), key=first.count))
        except UnicodeDecodeError:
            raise DomainError(Reason.INVALID_INPUT, f"پرونده با UTF-8 خوانده نمی‌شود: {path.name}") from None


def _xlsx_rows(path: Path) -> Generator[list[Any], None, None]:
    from openpyxl import load_workbook

    from services.legacy.read import unreadable_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a broken file
        raise unreadable_workbook(path, exc) from None
    try:
        rows = wb.worksheets[0].iter_rows(values_only=True)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as exc:  # broken sheet XML surfaces while the rows are read
                raise unreadable_workbook(path, exc) from None
            yield list(row)
    except IndexError as exc:  # a workbook without a sheet
        raise unreadable_workbook(path, exc) from None
    finally:
        wb.close()


def _cell(value: Any) -> str:
    """A cell as text; a spreadsheet's whole number loses its `.0` (a fraction stays, and is refused)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


# --- the engine: import, approve, read ----------------------------------------------------------

def _approval_info(deps: Deps, row: m.Approval) -> ApprovalInfo:
    with deps.uow() as uow:
        person = uow.people.get(row.signer_national_id)
    return ApprovalInfo(row.signer_national_id, person.full_name if person else "", row.signer_role,
                        row.signer_unit, row.cert_serial, row.received_at, row.technical_council_ref)


def _status(deps: Deps, row: m.PriceListImport, approval: m.Approval | None) -> PriceListStatus:
    items = tuple(PriceItem(c, u, p) for c, u, p in json.loads(row.items_json))
    return PriceListStatus(row.list_id, row.version, row.domain, items, row.items_sha256, row.imported_by,
                           row.imported_at, _approval_info(deps, approval) if approval is not None else None)


def price_list_status(deps: Deps, list_id: str, version: int) -> PriceListStatus:
    """The imported price-list version `list_id`/`version` with its approval, if any.

    Raises: NOT_FOUND (never imported through the API). Rule: R09."""
    with deps.uow() as uow:
        row = uow.price_list_imports.get(list_id, version)
        approval = uow.approvals.get(PRICE_LIST, list_id, version)
    if row is None:
        raise DomainError(Reason.NOT_FOUND, f"فهرست بهای «{list_id}» نسخهٔ {version} وارد نشده است")
    return _status(deps, row, approval)


def import_price_list(deps: Deps, doc: VerifiedDocument) -> PriceListStatus:
    """Store the price-list version of the operator's signed import document `doc` (verified at
    receipt), waiting for the deputy's approval. The same content again is a no-op.

    Raises: MALFORMED_XML, INVALID_INPUT, AMOUNT_OUT_OF_RANGE (the document's content; a version
    already imported or approved with other content: a change needs a new version). Rule: R09."""
    content = read_price_list_import(doc.root)
    digest = items_digest(content.items)
    with deps.uow() as uow:
        existing = uow.price_list_imports.get(content.list_id, content.version)
        approval = uow.approvals.get(PRICE_LIST, content.list_id, content.version) if existing is not None else None
    if existing is not None:
        # Outside the unit of work: _status reads the approver in a transaction of its own (SQLite
        # takes the write lock at BEGIN, so a nested one would wait for this one).
        if existing.items_sha256 != digest or existing.domain != content.domain:
            raise DomainError(Reason.INVALID_INPUT, f"فهرست بهای «{content.list_id}» نسخهٔ {content.version} "
                                                    "با محتوای دیگری وارد شده است؛ تغییر فقط با نسخهٔ تازه")
        return _status(deps, existing, approval)
    with deps.uow() as uow:
        if uow.price_lists.get(content.list_id, content.version) is not None:
            raise DomainError(Reason.INVALID_INPUT, f"فهرست بهای «{content.list_id}» نسخهٔ {content.version} "
                                                    "پیش‌تر ثبت و تصویب شده است؛ تغییر فقط با نسخهٔ تازه")
        row = uow.price_list_imports.add(m.PriceListImport(
            list_id=content.list_id, version=content.version, domain=content.domain,
            items_json=json.dumps([[i.code, i.unit, i.unit_price] for i in content.items], ensure_ascii=False),
            items_sha256=digest, imported_by=doc.national_id, imported_at=doc.received_at, request_xml=doc.xml))
        uow.record(at=doc.received_at, actor=doc.national_id, action="pricelist.imported", entity="price_list",
                   entity_id=f"{content.list_id}@{content.version}",
                   payload={"domain": content.domain, "items": len(content.items), "items_sha256": digest,
                            "request_sha256": doc.sha256, "role": doc.role, "unit": doc.unit})
        uow.commit()
    return _status(deps, row, None)


def _four_eyes(importer: str, approver: str) -> None:
    if importer == approver:
        raise DomainError(Reason.NOT_AUTHORISED, "واردکنندهٔ فهرست بها نمی‌تواند خود آن را تصویب کند")


def approve_price_list(deps: Deps, doc: VerifiedDocument) -> PriceListStatus:
    """Record the deputy's signed approval `doc` (verified at receipt as deputy@unit) of an imported
    price-list version and write that version to the approved price lists. Approving again with the
    same document content is a no-op.

    Raises: MALFORMED_XML, INVALID_INPUT (malformed; the approval names other items than imported,
    or another domain); NOT_FOUND (never imported); NOT_AUTHORISED (the importer approving their own
    import). Rule: R09 (only the responsible deputy approves; the technical council's approval is recorded)."""
    a = read_price_list_approval(doc.root)
    with deps.uow() as uow:
        row = uow.price_list_imports.get(a.list_id, a.version)
        existing = uow.approvals.get(PRICE_LIST, a.list_id, a.version)
    if row is None:
        raise DomainError(Reason.NOT_FOUND, f"فهرست بهای «{a.list_id}» نسخهٔ {a.version} وارد نشده است")
    if row.items_sha256 != a.items_sha256 or row.domain != a.domain:
        raise DomainError(Reason.INVALID_INPUT, "تصویب به ردیف‌ها یا حوزه‌ای جز آنچه وارد شده اشاره می‌کند")
    if existing is not None:  # read outside the unit of work: _status opens its own (SQLite locks at BEGIN)
        return _status(deps, row, existing)
    with deps.uow() as uow:
        _four_eyes(row.imported_by, doc.national_id)
        person = uow.people.get(doc.national_id)
        approval = uow.approvals.add(_approval_row(PRICE_LIST, a.list_id, a.version, a.items_sha256,
                                                   a.technical_council_ref, doc))
        uow.price_lists.add(a.list_id, a.version, a.domain, json.loads(row.items_json),
                            approved_by=_approver_name(person, doc.national_id), approved_at=doc.received_at,
                            technical_council_ref=a.technical_council_ref)
        uow.record(at=doc.received_at, actor=doc.national_id, action="pricelist.approved", entity="price_list",
                   entity_id=f"{a.list_id}@{a.version}",
                   payload={"items_sha256": a.items_sha256, "technical_council_ref": a.technical_council_ref,
                            "approval_sha256": doc.sha256, "role": doc.role, "unit": doc.unit,
                            "cert_serial": f"{doc.check.cert_serial:x}" if doc.check.cert_serial else None})
        uow.commit()
    return _status(deps, row, approval)


def _approver_name(person: m.Person | None, national_id: str) -> str:
    return f"{person.full_name} ({national_id})" if person is not None else national_id


def _approval_row(kind: str, subject: str, version: int, digest: str, council_ref: str,
                  doc: VerifiedDocument) -> m.Approval:
    return m.Approval(kind=kind, subject=subject, version=version, content_sha256=digest,
                      signer_national_id=doc.national_id, signer_role=doc.role, signer_unit=doc.unit,
                      cert_serial=f"{doc.check.cert_serial:x}" if doc.check.cert_serial else "",
                      technical_council_ref=council_ref, received_at=doc.received_at, xml=doc.xml)


def formula_status(deps: Deps, formula_id: str, version: int) -> FormulaStatus:
    """Formula `formula_id` version `version` of the policy, with its recorded approval, if any.

    Raises: POLICY_INVALID (the policy has no such formula version). Rule: R09."""
    entry = deps.policy.formula(formula_id, version)
    if entry.version != version:
        raise DomainError(Reason.POLICY_INVALID, f"فرمول {formula_id} نسخهٔ {version} تعریف نشده است")
    with deps.uow() as uow:
        approval = uow.approvals.get(FORMULA, formula_id, version)
    return FormulaStatus(formula_id, version, entry.expression, expression_digest(entry.expression),
                         _approval_info(deps, approval) if approval is not None else None)


def approve_formula(deps: Deps, doc: VerifiedDocument) -> FormulaStatus:
    """Record the deputy's signed approval `doc` of a formula version of the policy and write the
    formula row announcements require (kept as it is when a rehearsal wrote it before with the same
    text). Approving again is a no-op.

    Raises: MALFORMED_XML, INVALID_INPUT (malformed; an expression other than the policy's);
    POLICY_INVALID (no such formula version in the policy). Rule: R09 (only the responsible deputy
    approves formulas, and the technical council's approval is recorded)."""
    a: FormulaApproval = read_formula_approval(doc.root)
    status = formula_status(deps, a.formula_id, a.version)
    if a.expression != status.expression:
        raise DomainError(Reason.INVALID_INPUT, f"متن فرمول {a.formula_id} نسخهٔ {a.version} با متن سیاست نمی‌خواند")
    if status.approval is not None:
        return status
    with deps.uow() as uow:
        person = uow.people.get(doc.national_id)
        uow.approvals.add(_approval_row(FORMULA, a.formula_id, a.version, status.expression_sha256,
                                        a.technical_council_ref, doc))
        uow.formulas.add(a.formula_id, a.version, a.expression, _approver_name(person, doc.national_id),
                         doc.received_at, a.technical_council_ref)
        uow.record(at=doc.received_at, actor=doc.national_id, action="formula.approved", entity="formula",
                   entity_id=f"{a.formula_id}@{a.version}",
                   payload={"expression_sha256": status.expression_sha256,
                            "technical_council_ref": a.technical_council_ref, "approval_sha256": doc.sha256,
                            "role": doc.role, "unit": doc.unit})
        uow.commit()
    return formula_status(deps, a.formula_id, a.version)


def approved(deps: Deps, kind: str, subject: str, version: int) -> bool:
    """Whether a price-list (`PRICE_LIST`) or formula (`FORMULA`) version carries a recorded
    token-signed approval. Rule: R09 (without it, it cannot be used)."""
    with deps.uow() as uow:
        return uow.approvals.get(kind, subject, version) is not None


__all__ = ["APPROVER_ROLE", "DOMAINS", "FORMULA", "OPERATOR_ROLE", "PRICE_LIST", "ApprovalInfo", "FormulaStatus",
           "PriceListStatus", "approve_formula", "approve_price_list", "approved", "formula_status",
           "import_price_list", "price_list_status", "read_price_file"]
