"""Issue 16 part 1: each kind of signed document rendered from its signed XML to HTML and PDF.

The PDF's text (pdftotext) holds the title, the winner's name and every signer's name in logical
order; a headless Chromium screenshot of each HTML kind and a PNG of each PDF's first page
(pdftoppm) are kept under tests/artifacts/documents/; the QR code decodes (zbarimg) to the
document's id and the SHA-256 of the signed bytes; the signed bytes are not changed."""
from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import sqlite3
import subprocess

import pytest

from domain.persian import normalize_digits
from pilot.scenario import DEFAULT_SCENARIO, load_scenario
from tests.e2e.printed.conftest import ARTIFACTS

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
TOOLS = ("pdftotext", "pdftoppm", "zbarimg")
# Direction marks, ZWNJ and the punctuation pdftotext's bidi reordering moves around: (ماده )13
_MARKS = re.compile("[\u200c\u200e\u200f\u202a-\u202e\u2066-\u2069():،؛]")


def _text(text: str) -> str:
    """Extracted text compared as people read it: words in logical order, no direction marks or
    brackets, digits ASCII, spaces collapsed."""
    return " ".join(normalize_digits(_MARKS.sub("", text)).replace("\u066c", ",").split())


def _documents(rehearsal) -> dict[str, bytes | tuple[bytes, list[tuple[bytes, bytes]]]]:
    """Each kind's signed XML as stored; the contract as its approvers approved it at their stations:
    the contract's bytes and each stage's signed approval of them."""
    out = rehearsal.out
    db = sqlite3.connect(rehearsal.workdir / "eproc.db")
    try:
        stages = json.loads(db.execute("select data_json from contracts").fetchone()[0])["stage_documents"]
        statement = db.execute("select xml from status_statements where ref = 's1'").fetchone()[0]
    finally:
        db.close()
    contract = base64.b64decode(stages[-1]["contract_b64"])
    return {"article13": (out / "minutes" / "article13.xml").read_bytes(),
            "article18": (out / "minutes" / "article18.xml").read_bytes(),
            "receipt": (out / "receipts" / "b3.xml").read_bytes(),
            "contract": (contract, [(base64.b64decode(d["xml_b64"]), base64.b64decode(d["contract_b64"])) for d in stages]),
            "status_statement": bytes(statement),
            "checkpoint": sorted((out / "audit" / "checkpoints").glob("*.xml"))[-1].read_bytes()}


@pytest.fixture(scope="module")
def rendered(rehearsal, tmp_path_factory):
    from pilot.evidence import printing_context
    from render import render_approved_contract, render_html, render_pdf

    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.fail(f"set-up did not install {missing} (scripts/setup.sh)")

    class W:  # what printing_context reads of a world
        scenario = load_scenario(DEFAULT_SCENARIO)
        from config.policy import load_policy
        from config.settings import get_settings

        policy = load_policy(get_settings().policy_file)

    work = tmp_path_factory.mktemp("printed")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = {}
    for kind, stored in _documents(rehearsal).items():
        xml, approvals = stored if isinstance(stored, tuple) else (stored, None)
        before = bytes(xml)
        ctx = printing_context(W, rehearsal.out / "audit" / "log.jsonl", f"{kind}.signed", f"{kind}.xml")
        page = render_html(xml, ctx) if approvals is None else render_approved_contract(xml, approvals, ctx)
        assert xml == before and page.sha256 == hashlib.sha256(before).hexdigest()
        assert page.kind == kind
        html, pdf = work / f"{kind}.html", work / f"{kind}.pdf"
        html.write_text(page.html, encoding="utf-8")
        pdf.write_bytes(render_pdf(page.html))
        out[kind] = (page, html, pdf)
    return out


KINDS = ["article13", "article18", "receipt", "contract", "status_statement", "checkpoint"]


@pytest.mark.parametrize("kind", KINDS)
def test_pdf_text_has_title_winner_and_every_signer_in_logical_order(rendered, kind):
    page, _, pdf = rendered[kind]
    assert pdf.read_bytes().startswith(b"%PDF")
    text = _text(subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                                check=True).stdout)
    assert _text(page.title) in text
    if kind in ("article13", "article18", "receipt", "contract", "status_statement"):
        winner = next(b for b in load_scenario(DEFAULT_SCENARIO).bidders if b.id == "b3")
        assert _text(winner.name) in text, winner.name
    assert page.signers
    for signer in page.signers:
        assert _text(signer.name) in text, signer.name
        assert signer.national_id in text
    assert page.sha256 in text
    assert _text("این برگه نمایش سند امضاشده است") in text  # it says it is a rendering, and where the original is


@pytest.mark.parametrize("kind", KINDS)
def test_qr_code_decodes_to_the_document_id_and_hash(rendered, kind):
    page, _, pdf = rendered[kind]
    png = ARTIFACTS / f"{kind}.pdf-page1"
    subprocess.run(["pdftoppm", "-r", "110", "-png", "-singlefile", "-f", "1", "-l", "1", str(pdf), str(png)],
                   check=True)
    decoded = subprocess.run(["zbarimg", "-q", "--raw", str(png) + ".png"], capture_output=True,
                             text=True).stdout.strip()
    assert decoded == f"id={page.doc_id}&sha256={page.sha256}"
    assert page.qr == decoded


def test_html_of_every_kind_in_headless_chromium(rendered):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"])
        try:
            view = browser.new_page(viewport={"width": 1000, "height": 1400})
            for kind in KINDS:
                page, html, _ = rendered[kind]
                view.goto(html.as_uri())
                assert view.evaluate("getComputedStyle(document.body).direction") == "rtl"
                assert "Noto Naskh Arabic" in view.evaluate("getComputedStyle(document.body).fontFamily")
                assert view.locator("h1").inner_text() == page.title
                # tables have borders
                assert view.evaluate("getComputedStyle(document.querySelector('td')).borderTopStyle") == "solid"
                view.screenshot(path=str(ARTIFACTS / f"{kind}.html.png"), full_page=True)
        finally:
            browser.close()


def test_pilot_out_writes_the_article13_and_article18_pdfs_beside_xml_and_html(rehearsal):
    minutes = rehearsal.out / "minutes"
    for kind in ("article13", "article18"):
        for ext in ("xml", "html", "pdf"):
            assert (minutes / f"{kind}.{ext}").stat().st_size > 0, f"{kind}.{ext}"
        assert (minutes / f"{kind}.pdf").read_bytes().startswith(b"%PDF")
