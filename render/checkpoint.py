"""The audit checkpoint (نقطهٔ وارسی گزارش ممیزی) for print: the signed head of the audit chain."""
from __future__ import annotations

from lxml import etree

from render.context import Context, part
from render.page import el, fa, facts, ident, jalali_text_fa

TITLE = "نقطهٔ وارسی امضاشدهٔ گزارش ممیزی"


def doc_id(content: etree._Element) -> str:
    return f"checkpoint:{part(content, 'Head').get('seq')}"


def unit_of(content: etree._Element) -> str | None:
    return None


def fill(body: etree._Element, content: etree._Element, ctx: Context) -> None:
    head = part(content, "Head")
    digest = el(body, "span", head.get("hash", ""), class_="ltr", dir="ltr")
    facts(body, [
        ("ردیف سر زنجیره", fa(head.get("seq", "—"))),
        ("چکیدهٔ ردیف (SHA-256)", digest),
        ("زمان", jalali_text_fa(part(content, "TakenAt").get("jalali"))),
        ("مناسبت", ident(el(body, "span"), part(content, "Occasion").text or "")),
    ])
    el(body, "p", "هر ردیف گزارش ممیزی چکیدهٔ ردیف پیش از خود را دارد؛ این نقطهٔ وارسی امضاشده نشان می‌دهد "
                  "گزارش تا این ردیف بازنویسی یا کوتاه نشده است.")
