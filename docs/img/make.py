"""Regenerate the operators' guides' images (docs/operators.fa.md, .en.md) from a default rehearsal.

    .venv/bin/python docs/img/make.py                      # runs `eproc pilot` itself (a few minutes)
    .venv/bin/python docs/img/make.py --out OUT --workdir W  # reuses a rehearsal's bundle and store
    .venv/bin/python docs/img/make.py --ui attendance.png    # the Prefect UI form's screenshot to use

Writes, under docs/img/: `<kind>.html.png` (the printable page in headless Chromium, its first
screen), `<kind>.pdf.png` (the PDF's first page, `pdftoppm -r 60`) for the six document kinds,
`attendance-form.png` (the Prefect UI attendance form: the stack test's screenshot,
tests/artifacts/attendance-form.png, unless `--ui` names another) and `pilot-80col.txt` (the
rehearsal's terminal report at COLUMNS=80). Every PNG is reduced to a 64-colour palette and, if
still over 150 KB, scaled down until it is not. Needs /usr/bin/chromium and poppler-utils.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMG = ROOT / "docs" / "img"
CHROMIUM = "/usr/bin/chromium"
MAX_BYTES = 150_000
KINDS = ("article13", "article18", "receipt", "contract", "status_statement", "checkpoint")
WINNER = "b3"  # the default scenario's winner: its receipt is shown
STACK_UI_SHOT = ROOT / "tests" / "artifacts" / "attendance-form.png"


def rehearse(base: Path) -> tuple[Path, Path, str]:
    """A default rehearsal at 80 columns: (bundle, work directory, terminal output)."""
    out, work = base / "out", base / "work"
    env = {**os.environ, "COLUMNS": "80", "TERM": "dumb", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "DO_NOT_TRACK": "1", "PREFECT_LOGGING_LEVEL": "WARNING",
           "PREFECT_HOME": os.environ.get("PREFECT_HOME", str(base / "prefect"))}
    done = subprocess.run([str(Path(sys.executable).parent / "eproc"), "pilot", "--out", str(out),
                           "--workdir", str(work)], env=env, capture_output=True, text=True, cwd=ROOT,
                          timeout=1200)
    if done.returncode != 0:
        sys.exit(f"eproc pilot failed:\n{done.stderr[-3000:]}")
    return out, work, done.stdout


def documents(out: Path, work: Path) -> dict[str, bytes | tuple[bytes, list[tuple[bytes, bytes]]]]:
    """The signed bytes of each kind: the bundle's files, the statement from the store, and the contract
    as approved at the stations (its bytes and each stage's signed approval)."""
    db = sqlite3.connect(work / "eproc.db")
    try:
        stages = json.loads(db.execute("select data_json from contracts").fetchone()[0])["stage_documents"]
        statement = db.execute("select xml from status_statements order by seq limit 1").fetchone()[0]
    finally:
        db.close()
    return {"article13": (out / "minutes" / "article13.xml").read_bytes(),
            "article18": (out / "minutes" / "article18.xml").read_bytes(),
            "receipt": (out / "receipts" / f"{WINNER}.xml").read_bytes(),
            "contract": (base64.b64decode(stages[-1]["contract_b64"]), [(base64.b64decode(d["xml_b64"]), base64.b64decode(d["contract_b64"])) for d in stages]),
            "status_statement": bytes(statement),
            "checkpoint": sorted((out / "audit" / "checkpoints").glob("*.xml"))[-1].read_bytes()}


def shrink(png: Path) -> None:
    """A 64-colour palette, then scaled by 0.85 until the file is at most MAX_BYTES."""
    from PIL import Image

    with Image.open(png) as src:
        img = src.convert("RGB")
    while True:
        img.quantize(colors=64).save(png, optimize=True)
        if png.stat().st_size <= MAX_BYTES:
            return
        img = img.resize((int(img.width * 0.85), int(img.height * 0.85)), Image.Resampling.LANCZOS)


def screenshot_html(html: Path, png: Path) -> None:
    """The page's first screen (820 × 1160 CSS px) in headless Chromium."""
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--window-size=820,1160", f"--screenshot={png}", html.as_uri()],
                   check=True, capture_output=True, timeout=120)


def pdf_first_page(pdf: Path, png: Path) -> None:
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(png.with_suffix(""))], check=True, timeout=120)


def render_documents(out: Path, work: Path, tmp: Path) -> list[Path]:
    from config.policy import load_policy
    from config.settings import get_settings
    from pilot.evidence import printing_context
    from pilot.scenario import DEFAULT_SCENARIO, load_scenario
    from render import render_approved_contract, render_html, render_pdf

    class World:  # what printing_context reads of a rehearsal's world
        scenario = load_scenario(DEFAULT_SCENARIO)
        policy = load_policy(get_settings().policy_file)

    written = []
    for kind, stored in documents(out, work).items():
        xml, approvals = stored if isinstance(stored, tuple) else (stored, None)
        ctx = printing_context(World, out / "audit" / "log.jsonl", f"{kind}.signed", f"{kind}.xml")
        page = render_html(xml, ctx) if approvals is None else render_approved_contract(xml, approvals, ctx)
        html, pdf = tmp / f"{kind}.html", tmp / f"{kind}.pdf"
        html.write_text(page.html, encoding="utf-8")
        pdf.write_bytes(render_pdf(page.html))
        for png, make in ((IMG / f"{kind}.html.png", screenshot_html), (IMG / f"{kind}.pdf.png", pdf_first_page)):
            make(html if make is screenshot_html else pdf, png)
            shrink(png)
            written.append(png)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="a rehearsal's evidence bundle (eproc pilot --out)")
    parser.add_argument("--workdir", type=Path, help="the same rehearsal's work directory (eproc pilot --workdir)")
    parser.add_argument("--terminal", type=Path, help="that rehearsal's terminal output at COLUMNS=80")
    parser.add_argument("--ui", type=Path, default=STACK_UI_SHOT, help="the attendance form's screenshot")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    IMG.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="eproc-img-") as tmp_dir:
        tmp = Path(tmp_dir)
        if args.out and args.workdir:
            out, work = args.out, args.workdir
            terminal = args.terminal.read_text(encoding="utf-8") if args.terminal else None
        else:
            out, work, terminal = rehearse(tmp)
            terminal = terminal.replace(str(out), "OUT")  # the bundle's temporary path, as in the guides
        if terminal is not None:
            (IMG / "pilot-80col.txt").write_text(terminal, encoding="utf-8")
        written = render_documents(out, work, tmp)
    if args.ui.exists():
        shutil.copyfile(args.ui, IMG / "attendance-form.png")
        shrink(IMG / "attendance-form.png")
        written.append(IMG / "attendance-form.png")
    else:
        print(f"no UI screenshot at {args.ui}: run tests/e2e/stack (test_operator_answers_...) first")
    total = sum(p.stat().st_size for p in written)
    for p in written:
        print(f"{p.relative_to(ROOT)}  {p.stat().st_size // 1000} KB")
    print(f"total {total // 1000} KB")


if __name__ == "__main__":
    main()
