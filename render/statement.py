"""The status statement (صورت‌وضعیت) for print: items, terms, amounts and deductions."""
from __future__ import annotations

from lxml import etree

from render.context import Context, part, q
from render.page import el, fa, facts, ident, jalali_text_fa, rial, table

TITLE = "صورت‌وضعیت"
_DEDUCTION_FA = {"insurance": "بیمه", "retention": "سپردهٔ حسن انجام کار", "tax": "مالیات",
                 "penalty": "جریمه", "advance": "استرداد پیش‌پرداخت"}


def doc_id(content: etree._Element) -> str:
    return f"status-statement:{part(content, 'Statement').get('id')}"


def unit_of(content: etree._Element) -> str | None:
    return part(content, "Contract").get("unit")


def fill(body: etree._Element, content: etree._Element, ctx: Context) -> None:
    contract, st = part(content, "Contract"), part(content, "Statement")
    terms, amounts = part(content, "Terms"), part(content, "Amounts")
    facts(body, [
        ("کد قرارداد", ident(el(body, "span"), contract.get("code") or "—")),
        ("شمارهٔ پیگیری قرارداد", ident(el(body, "span"), contract.get("tracking_number", ""))),
        ("پیمانکار", ctx.named(contract.get("contractor"))),
        ("مبلغ قرارداد", f"{rial(contract.get('amount_rial'))} ریال"),
        ("صورت‌وضعیت", f"{st.get('ref', '')} — شمارهٔ {fa(st.get('seq', ''))}"),
        ("تاریخ", jalali_text_fa(st.get("at_jalali"))),
        ("ضریب پیمان", fa(terms.get("coefficient") or "—")),
        ("حد مجاز تغییر", fa(terms.get("allowed_change") or "—")),
    ])
    el(body, "h2", "اقلام کار انجام‌شده")
    table(body, ["ردیف فهرست بها", "مقدار", "بهای واحد (ریال)"],
          [[it.get("code", ""), fa(it.get("quantity", "")), rial(it.get("unit_price_rial"))]
           for it in part(content, "Items").iter(q(content, "Item"))], numeric=(1, 2), ids=(0,))
    resources = part(content, "Resources")
    if resources.attrib:
        el(body, "h2", "منابع")
        facts(body, [("خودرو", fa(resources.get("vehicles", "—"))), ("کارگر", fa(resources.get("workers", "—"))),
                     ("کسری خودرو", fa(resources.get("missing_vehicles", "—"))),
                     ("کسری کارگر", fa(resources.get("missing_workers", "—")))])
    el(body, "h2", "مبالغ (ریال)")
    rows = [["کارکرد تجمعی", rial(amounts.get("cumulative_rial"))],
            ["تأییدشدهٔ پیشین", rial(amounts.get("previous_approved_rial"))],
            ["ناخالص این صورت‌وضعیت", rial(amounts.get("gross_rial"))],
            ["جریمه", rial(amounts.get("penalty_rial"))]]
    rows += [[f"کسر: {_DEDUCTION_FA.get(d.get('kind', ''), d.get('kind', ''))}", rial(d.get("rial"))]
             for d in amounts.iter(q(content, "Deduction"))]
    rows.append(["قابل پرداخت", rial(amounts.get("payable_rial"))])
    table(body, ["شرح", "مبلغ (ریال)"], rows, numeric=(1,))
