"""The bid receipt (رسید دریافت پیشنهاد) for print: what was received, when, and each envelope's hash."""
from __future__ import annotations

from lxml import etree

from render.context import Context, part, q
from render.page import el, facts, ident, jalali_text_fa, table

TITLE = "رسید دریافت پیشنهاد"
_LETTER_FA = {"A": "الف", "B": "ب", "C": "ج"}


def doc_id(content: etree._Element) -> str:
    seq = part(content, "Sequence").get("receipt_id")
    return f"receipt:{seq}" if seq else (f"receipt:{part(content, 'Tender').get('id')}/"
                                         f"{part(content, 'Bidder').get('id')}")


def unit_of(content: etree._Element) -> str | None:
    return None


def fill(body: etree._Element, content: etree._Element, ctx: Context) -> None:
    seq, signer = part(content, "Sequence"), part(content, "ManifestSigner")
    rows: list[tuple[str, str | etree._Element]] = [
        ("شمارهٔ فرایند", ident(el(body, "span"), part(content, "Tender").get("id", ""))),
        ("پیشنهاددهنده", ctx.named(part(content, "Bidder").get("id"))),
        ("زمان دریافت", jalali_text_fa(part(content, "ReceivedAt").get("jalali"))),
    ]
    if seq.get("receipt_id"):
        rows.append(("شمارهٔ رسید", ident(el(body, "span"), seq.get("receipt_id", ""))))
    if seq.get("supersedes"):
        rows.append(("جایگزین رسید", ident(el(body, "span"), seq.get("supersedes", ""))))
    if signer.get("cert_serial"):
        rows.append(("سریال گواهی امضاکنندهٔ پیشنهاد", ident(el(body, "span"),
                                                            format(int(signer.get("cert_serial", "0")), "X"))))
    facts(body, rows)
    el(body, "h2", "پاکت‌های دریافت‌شده")
    table(body, ["پاکت", "چکیدهٔ SHA-256 پاکت مهروموم‌شده"],
          [[_LETTER_FA.get(e.get("letter", ""), e.get("letter", "")), e.get("sha256", "")]
           for e in part(content, "Envelopes").iter(q(content, "Envelope"))], codes=(1,))
