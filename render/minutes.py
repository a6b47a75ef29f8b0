"""Article 13 minutes (صورتجلسهٔ کمیسیون ماده ۱۳) for print: the body is the domain's own rendering
(domain.documents.minutes.render_html, the one place that says what the minutes show), placed in
the shared page with names beside bidder ids, amounts aligned and the verification block."""
from __future__ import annotations

import copy
import re

from lxml import etree

from domain.documents.minutes import html_tree as minutes_html_tree
from render.context import Context, part
from render.page import fa

TITLE = "صورتجلسهٔ کمیسیون معاملات (ماده ۱۳)"
_AMOUNT = re.compile(r"^[۰-۹٬]+$")


def doc_id(content: etree._Element) -> str:
    version = content[0].get("version") if len(content) else "1"
    return f"article13:{part(content, 'Tender').get('id')}:v{version}"


def unit_of(content: etree._Element) -> str | None:
    return part(content, "Tender").get("unit")


def fill(body: etree._Element, content: etree._Element, ctx: Context) -> None:
    page = minutes_html_tree(content).find("body")
    bidders = {b.get("bidder") for b in part(content, "Bids")}
    for node in page:
        if node.tag == "h1":
            continue
        for td in node.iter("td", "dd"):
            text = td.text or ""
            if text in bidders:
                td.text = ctx.named(text)
            elif _AMOUNT.match(text):
                td.set("class", "num")
        if node.tag == "dl":
            for dd in node.iter("dd"):
                if dd.text and dd.text == part(content, "Tender").findtext("{*}Title"):
                    dd.text = fa(dd.text)
        body.append(copy.deepcopy(node))
    award = part(content, "Award")
    if award.get("status") == "awarded":
        for p in body.iter("p"):
            if p.text and p.text.startswith("برندهٔ اول"):
                p.text = (f"برندهٔ اول: {ctx.named(award.get('winner'))}؛ برندهٔ دوم: "
                          f"{ctx.named(award.get('runner_up')) if award.get('runner_up') else 'اعلام نمی‌شود'}")
