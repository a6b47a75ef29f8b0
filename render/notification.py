"""The Article 18 notification (ابلاغ ماده ۱۸) for print."""
from __future__ import annotations

from lxml import etree

from render.context import Context, part
from render.page import el, fa, facts, ident, jalali_text_fa, rial

TITLE = "ابلاغ نتیجهٔ مناقصه به برنده (ماده ۱۸)"


def doc_id(content: etree._Element) -> str:
    version = content[0].get("version") if len(content) else "1"
    return f"article18:{part(content, 'Tender').get('id')}:{part(content, 'Bidder').get('id')}:v{version}"


def unit_of(content: etree._Element) -> str | None:
    return part(content, "Tender").get("unit")


def fill(body: etree._Element, content: etree._Element, ctx: Context) -> None:
    tender, bidder = part(content, "Tender"), part(content, "Bidder")
    minutes, guarantee = part(content, "Minutes"), part(content, "PerformanceGuarantee")
    deadline = part(content, "SigningDeadline")
    position = "برندهٔ اول" if bidder.get("position") == "winner" else "برندهٔ دوم"
    facts(body, [
        ("موضوع", fa(tender.findtext("{*}Title") or "")),
        ("شمارهٔ فرایند", ident(el(body, "span"), tender.get("id", ""))),
        ("گیرنده", f"{ctx.named(bidder.get('id'))} — {position}"),
        ("مبلغ پیشنهاد", f"{rial(part(content, 'Amount').get('rial'))} ریال"),
        ("ضمانت‌نامهٔ انجام تعهدات", f"{rial(guarantee.get('rial'))} ریال "
                                      f"({fa(_percent(guarantee.get('rate')))} درصد)"),
        ("تاریخ ابلاغ", jalali_text_fa(part(content, "NotifiedAt").get("jalali"))),
        ("مهلت امضای قرارداد", f"{jalali_text_fa(deadline.get('jalali'))} ({fa(deadline.get('days'))} روز)"),
        ("صورتجلسهٔ مبنا", f"نسخهٔ {fa(minutes.get('version'))}"),
    ])
    el(body, "h2", "متن ابلاغ")
    el(body, "p", fa(part(content, "Text").text or ""))
    line = el(body, "p", "چکیدهٔ بدنهٔ صورتجلسهٔ مبنا (SHA-256): ")
    el(line, "span", minutes.get("body_sha256", ""), class_="ltr", dir="ltr")


def _percent(rate: str | None) -> str:
    from decimal import Decimal

    return format((Decimal(rate) * 100).normalize(), "f") if rate else "—"
