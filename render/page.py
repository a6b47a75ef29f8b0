"""The page every printable document shares: the right-to-left stylesheet and its Persian font, the
municipality's and unit's heading with the document's QR code, facts, bordered tables, Persian
digits and grouped amounts, and the note that the page is a rendering of a signed original."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from lxml import etree

from domain.persian import format_jalali_datetime, format_rial, persian_digits
from domain.reasons import Reason

MUNICIPALITY_FA = "شهرداری تهران"
# The font the set-up installs (Debian fonts-noto-core: Noto Naskh Arabic), then the usual fallbacks.
FONT_FAMILY = '"Noto Naskh Arabic", "Vazirmatn", "Nazli", "DejaVu Sans", sans-serif'

STYLESHEET = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm;
        @bottom-center { content: "صفحهٔ " counter(page) " از " counter(pages); font-family: FONT;
                         font-size: 9pt; color: #444; } }
html { direction: rtl; }
body { font-family: FONT; font-size: 10.5pt; line-height: 1.6; color: #111; margin: 0; }
header.doc { display: flex; flex-direction: row; justify-content: space-between; align-items: flex-start;
             border-bottom: 2px solid #222; padding-bottom: 4pt; margin-bottom: 8pt; }
header.doc .org { font-weight: bold; font-size: 12pt; }
header.doc .org div { margin: 0; }
header.doc .qr { text-align: left; direction: ltr; }
header.doc .qr img { width: 30mm; height: 30mm; }
h1 { font-size: 15pt; text-align: center; margin: 6pt 0 10pt 0; }
h2 { font-size: 12pt; margin: 12pt 0 4pt 0; border-bottom: 1px solid #888; }
dl { display: grid; grid-template-columns: max-content 1fr; column-gap: 10pt; row-gap: 1pt; margin: 0; }
dl.facts { display: block; }
dl.facts div { display: block; }
dt { font-weight: bold; display: inline; }
dt::after { content: ": "; }
dd { display: inline; margin: 0; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0 8pt 0; page-break-inside: auto; }
th, td { border: 1px solid #333; padding: 2pt 4pt; text-align: right; vertical-align: top; }
th { background: #e8e8e8; font-weight: bold; }
td.num, th.num { text-align: left; white-space: nowrap; }
.ltr { direction: ltr; unicode-bidi: isolate; font-family: "DejaVu Sans Mono", monospace; font-size: 8.5pt;
       word-break: break-all; }
bdi { unicode-bidi: isolate; }
section.verify { border: 1.5px solid #222; padding: 4pt 8pt; margin-top: 12pt; page-break-inside: avoid; }
section.verify h2 { border: 0; margin-top: 2pt; }
table.signer th { width: 16%; }
table.signer td.name { white-space: nowrap; }
table.signer { page-break-inside: avoid; }
div.rendering { font-size: 9pt; color: #333; border-top: 1px dashed #666; padding-top: 4pt; margin-top: 10pt; }
""".replace("FONT", FONT_FAMILY)

# Roles as signers claim them (signing.verify.split_signer_ref), in Persian.
ROLE_FA = {"chair": "رئیس کمیسیون", "finance": "مدیر مالی", "technical": "مدیر فنی",
           "legal": "نمایندهٔ حقوقی", "security": "نمایندهٔ حراست", "treasurer": "ذی‌حساب",
           "company_signatory": "صاحب امضای مجاز شرکت", "contractor_signatory": "صاحب امضای مجاز پیمانکار",
           "supervisor": "ناظر", "employer_reviewer": "بررسی‌کنندهٔ کارفرما", "deputy": "معاون",
           "contracts_officer": "کارشناس قراردادها", "transactions_system": "سامانهٔ معاملات (امضای سامانه)",
           "budget": "مسئول تأمین اعتبار", "legal_reviewer": "بررسی‌کنندهٔ حقوقی"}


def fa(value: object) -> str:
    """Numbers, dates and counts in Persian digits (never identifiers: those stay as typed)."""
    return persian_digits(value)


def rial(value: object | None) -> str:
    """An int-rial amount grouped by threes, Persian digits and the Persian separator; "—" if absent."""
    if value is None or value == "":
        return "—"
    return format_rial(int(str(value)), persian=True)


def when_fa(value: datetime | None) -> str:
    """A time as Tehran Jalali wall time in Persian digits; "—" if absent."""
    return format_jalali_datetime(value, persian=True) if value is not None else "—"


def jalali_text_fa(text: str | None) -> str:
    """A Jalali text the document already states (`jalali` attributes) in Persian digits."""
    return fa(text) if text else "—"


def reason_fa(code: str | None) -> str:
    """A reason code with its Persian message, e.g. «پیشنهاد غیرعادی پایین (ABNORMALLY_LOW)»."""
    if not code:
        return "—"
    try:
        return f"{Reason(code).message_fa} ({code})"
    except ValueError:
        return code


def el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    node = etree.SubElement(parent, tag, {k.rstrip("_"): v for k, v in attrs.items()})
    if text is not None:
        node.text = text
    return node


def ident(parent: etree._Element, text: str, tag: str = "bdi") -> etree._Element:
    """An identifier exactly as the document holds it, isolated so Latin text keeps its order."""
    return el(parent, tag, text, dir="ltr")


def new_page(title: str, unit: str | None, unit_name: str | None, qr_data_uri: str,
             doc_id: str) -> tuple[etree._Element, etree._Element]:
    """The page skeleton: (html root, the body to fill). Heading: municipality, unit, the QR code."""
    html = etree.Element("html", dir="rtl", lang="fa")
    head = el(html, "head")
    el(head, "meta", charset="utf-8")
    el(head, "title", title)
    el(head, "style", STYLESHEET)
    body = el(html, "body")
    header = el(body, "header", class_="doc")
    org = el(header, "div", class_="org")
    el(org, "div", MUNICIPALITY_FA)
    if unit:
        el(org, "div", unit_name or unit)
    el(org, "div", "سامانهٔ معاملات الکترونیکی")
    qr = el(header, "div", class_="qr")
    el(qr, "img", src=qr_data_uri, alt=f"QR {doc_id}")
    el(body, "h1", title)
    return html, body


def facts(parent: etree._Element, rows: Iterable[tuple[str, str | etree._Element]]) -> etree._Element:
    """Term: value lines; a value that is an identifier is passed as an element made by `ident`."""
    dl = el(parent, "dl", class_="facts")
    for term, value in rows:
        line = el(dl, "div")
        el(line, "dt", term)
        dd = el(line, "dd")
        if isinstance(value, str):
            dd.text = value or "—"
        else:
            dd.append(value)
    return dl


def table(parent: etree._Element, headers: Sequence[str], rows: Iterable[Sequence[str]],
          numeric: Sequence[int] = (), ids: Sequence[int] = (), codes: Sequence[int] = ()) -> etree._Element:
    """A bordered table; `numeric` column indexes align as numbers, `ids` columns are isolated
    left-to-right identifiers, `codes` columns long machine codes (hashes, serials) that may wrap."""
    t = el(parent, "table")
    tr = el(el(t, "thead"), "tr")
    for i, h in enumerate(headers):
        el(tr, "th", h, **({"class_": "num"} if i in numeric else {}))
    tbody = el(t, "tbody")
    for row in rows:
        tr = el(tbody, "tr")
        for i, cell in enumerate(row):
            td = el(tr, "td", None, **({"class_": "num"} if i in numeric else {}))
            if i in codes:
                el(td, "span", cell, class_="ltr", dir="ltr")
            elif i in ids:
                ident(td, cell)
            else:
                td.text = cell
    return t


def finish(html: etree._Element) -> str:
    return "<!DOCTYPE html>\n" + etree.tostring(html, method="html", encoding="unicode")
