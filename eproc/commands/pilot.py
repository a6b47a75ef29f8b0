from __future__ import annotations

import os
from pathlib import Path

import typer

from eproc.errors import run_command
from eproc.output import console, emit_json, table


def register(app: typer.Typer) -> None:
    @app.command("pilot", help="اجرای سناریوی آزمایشی یک معامله از آگهی تا پرداخت — rehearse a whole "
                               "transaction from a scenario file (real flows, store, SoftHSM tokens, signatures)")
    def pilot(scenario: Path = typer.Option(None, "--scenario", help="پروندهٔ سناریو (TOML)؛ پیش‌فرض: "
                                            "district-12-asphalt — scenario file"),
              json_out: bool = typer.Option(False, "--json", help="گزارش JSON — the report as JSON on stdout"),
              out: Path = typer.Option(None, "--out", help="پوشهٔ بستهٔ شواهد — evidence bundle directory"),
              workdir: Path = typer.Option(None, "--workdir", help="پوشهٔ کار (پایگاه داده، توکن‌ها) — work "
                                           "directory; a fresh temporary one by default"),
              database_url: str = typer.Option(None, "--database-url", help="پایگاه دادهٔ سامانه، مثلاً PostgreSQL "
                                               "پشتهٔ eproc up — application database; SQLite in the work "
                                               "directory by default")) -> None:
        os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        os.environ.setdefault("DO_NOT_TRACK", "1")
        if json_out:
            os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

        def go() -> None:
            from pilot.runner import run_pilot
            from pilot.scenario import load_scenario

            if scenario is not None:
                load_scenario(scenario)  # an invalid file fails here, before anything runs
            report = run_pilot(scenario, out_dir=out, workdir=workdir, database_url=database_url)
            if json_out:
                emit_json(report)
            else:
                _print(report, out)

        run_command(go, json_out)


def _print(report: dict, out: Path | None) -> None:
    t = report["tender"]
    console.print(f"[bold]سناریو:[/] {report['scenario']}  —  وضعیت مناقصه: {t['status']}"
                  + (f" ({t['reason']})" if t["reason"] else ""))
    table("پیشنهادها", ["پیشنهاددهنده", "الف", "ب", "ج", "قیمت (ریال)", "رتبه", "علت"],
          [(b, v["A"], v["B"], v["C"], f"{v['price_rial']:,}" if v["price_rial"] else None, v["rank"], v["reason"])
           for b, v in report["bids"].items()])
    console.print(f"برنده: {report['winner'] or '—'}   نفر دوم: {report['runner_up'] or '—'}")
    if report.get("contract"):
        c = report["contract"]
        console.print(f"قرارداد: {c.get('code') or '—'} ({c.get('status')})، مبلغ {c.get('amount_rial'):,} ریال")
    for name, s in (report.get("status_statements") or {}).items():
        console.print(f"صورت‌وضعیت {name}: {s['result']} {s.get('payable_rial') or ''} {s.get('reason') or ''}")
    for name, p in (report.get("payments") or {}).items():
        console.print(f"پرداخت {name}: {p['result']} {p.get('reason') or ''}")
    if out is not None:
        console.print(f"بستهٔ شواهد: {out}")
