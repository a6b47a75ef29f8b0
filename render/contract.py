"""The contract (قرارداد) for print: registration, amount, budget, parties and signatories."""
from __future__ import annotations

from datetime import date

from lxml import etree

from domain.persian import format_jalali_date
from render.context import Context, part, q
from render.page import el, fa, facts, ident, rial, table

TITLE = "قرارداد"
_KIND_FA = {"general": "عمومی", "waste": "پسماند", "income": "درآمدی"}
_SELECTION_FA = {"tender": "مناقصه", "auction": "مزایده", "price_inquiry": "استعلام بها"}
_CLASS_FA = {"small": "کوچک", "medium": "متوسط", "large": "بزرگ"}


def doc_id(content: etree._Element) -> str:
    return f"contract:{part(content, 'Registration').get('tracking_number')}"


def unit_of(content: etree._Element) -> str | None:
    return part(content, "Registration").get("unit")


def fill(body: etree._Element, content: etree._Element, ctx: Context) -> None:
    reg, amount, budget = part(content, "Registration"), part(content, "Amount"), part(content, "Budget")
    contractor = part(content, "Contractor")
    day = part(content, "ContractDate").text
    rows: list[tuple[str, str | etree._Element]] = [
        ("موضوع", fa(reg.findtext(q(content, "Subject")) or "")),
        ("شمارهٔ پیگیری", ident(el(body, "span"), reg.get("tracking_number", ""))),
        ("شمارهٔ فرایند", ident(el(body, "span"), reg.get("tender_id", ""))),
        ("نوع", _KIND_FA.get(reg.get("kind", ""), reg.get("kind", ""))),
        ("روش انتخاب", _SELECTION_FA.get(reg.get("selection_method", ""), reg.get("selection_method", ""))),
        ("طبقهٔ معامله", _CLASS_FA.get(reg.get("threshold_class", ""), reg.get("threshold_class", ""))),
        ("مبلغ قرارداد", f"{rial(amount.get('rial'))} ریال"),
        ("برآورد", f"{rial(amount.get('estimate_rial'))} ریال"),
        ("ضریب", fa(amount.get("coefficient") or "—")),
        ("ردیف بودجه", ident(el(body, "span"), budget.get("budget_line") or "—")),
        ("عامل هزینه", ident(el(body, "span"), budget.get("expense_factor") or "—")),
        ("تاریخ قرارداد", format_jalali_date(date.fromisoformat(day), persian=True) if day else "—"),
    ]
    facts(body, rows)
    el(body, "h2", "پیمانکار")
    table(body, ["شناسهٔ ملی", "نام", "کد اقتصادی", "رتبه", "مدیرعامل (کد ملی)"],
          [[contractor.get("national_id", ""), ctx.names.get(contractor.get("national_id", ""), "—"),
            contractor.get("economic_code", ""), fa(contractor.get("grade", "—")), contractor.get("ceo", "")]],
          ids=(0, 2, 4))
    el(body, "h2", "امضاکنندگان و ناظر")
    people = [("صاحب امضای پیمانکار", e) for e in _all(content, "ContractorSignatory")]
    people += [("صاحب امضای کارفرما", e) for e in _all(content, "EmployerSignatory")]
    people += [("عضو کمیسیون", e) for e in _all(content, "CommissionMember")]
    people += [("ناظر", e) for e in _all(content, "Supervisor")]
    table(body, ["سمت در قرارداد", "کد ملی", "نام"],
          [[role, e.get("national_id", ""), ctx.names.get(e.get("national_id", ""), "—")] for role, e in people],
          ids=(1,))


def _all(content: etree._Element, name: str) -> list[etree._Element]:
    return list(content[0].iter(q(content, name))) if len(content) else []
