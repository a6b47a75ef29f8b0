from __future__ import annotations

from pathlib import Path

import typer

from eproc.errors import run_command
from eproc.output import Ident, amount, emit_json, line, reason_text, table


def register(app: typer.Typer) -> None:
    @app.command("pilot", help="اجرای سناریوی آزمایشی یک معامله از آگهی تا پرداخت — rehearse a whole "
                               "transaction from a scenario file (real flows, store, SoftHSM tokens, signatures)")
    def pilot(ctx: typer.Context,
              scenario: Path = typer.Option(None, "--scenario", help="پروندهٔ سناریو (TOML)؛ پیش‌فرض: "
                                            "district-12-asphalt — scenario file"),
              json_out: bool = typer.Option(False, "--json", help="گزارش JSON — the report as JSON on stdout"),
              out: Path = typer.Option(None, "--out", help="پوشهٔ بستهٔ شواهد — evidence bundle directory"),
              workdir: Path = typer.Option(None, "--workdir", help="پوشهٔ کار (پایگاه داده، توکن‌ها) — work "
                                           "directory; a fresh temporary one by default"),
              database_url: str = typer.Option(None, "--database-url", help="پایگاه دادهٔ سامانه، مثلاً PostgreSQL "
                                               "پشتهٔ eproc up — application database; SQLite in the work "
                                               "directory by default"),
              trainee: str = typer.Option(None, "--trainee", help="کارآموز نقش این شخص را با توکن خودش بازی "
                                          "می‌کند (سمت، شناسهٔ عضو یا پیشنهاددهنده، کد ملی) — the person the "
                                          "trainee plays with their own token"),
              trainee_token: str = typer.Option(None, "--trainee-token", help="برچسب توکن کارآموز در "
                                                "SOFTHSM2_CONF؛ رمز از EPROC_TOKEN_PIN — the trainee's token "
                                                "label")) -> None:
        # Prefect's server starts on the other core while the engine is imported and the world built: the
        # `eproc` command started it before importing the CLI (eproc.launch, through the context's
        # object); otherwise (the CLI called in-process) it starts here.
        from pilot.prefect_api import start_for_rehearsal

        prefect_api = (ctx.obj or {}).get("prefect_api") or start_for_rehearsal(json_out)

        def go() -> None:
            from pilot.auction import check_scenario
            from pilot.runner import run_pilot
            from pilot.world import Trainee

            if scenario is not None:
                check_scenario(scenario)  # an invalid file fails here, before anything runs
            if (trainee is None) != (trainee_token is None):
                from domain.reasons import DomainError, Reason

                raise DomainError(Reason.INVALID_INPUT, "--trainee و --trainee-token با هم داده می‌شوند")
            who = Trainee(trainee, trainee_token) if trainee is not None and trainee_token is not None else None
            report = run_pilot(scenario, out_dir=out, workdir=workdir, database_url=database_url, trainee=who,
                               prefect_api=prefect_api)
            if json_out:
                emit_json(report)
            else:
                _print(report, out)

        try:
            run_command(go, json_out)
        finally:
            if prefect_api is not None:
                prefect_api.stop(wait=False)  # this process ends now


def _print(report: dict, out: Path | None) -> None:
    """The report for people: Persian status words with each reason's code and Persian message,
    amounts grouped, identifiers as typed; every table reads completely at 80 columns (issue 16)."""
    from pilot.report import status_fa

    t = report["tender"]
    line(f"سناریو: {report['scenario']}")
    line(f"وضعیت مناقصه: {status_fa(t['status'])}" + (f" — {reason_text(t['reason'])}" if t["reason"] else ""))
    if t.get("estimate_rial") is not None:
        line(f"برآورد: {amount(t['estimate_rial'])} ریال")
    table("پیشنهادها", ["پیشنهاددهنده", "الف", "ب", "ج", "قیمت (ریال)", "رتبه", "علت"],
          [(Ident(b), status_fa(v["A"]), status_fa(v["B"]), status_fa(v["C"]), amount(v["price_rial"]), v["rank"],
            reason_text(v["reason"])) for b, v in report["bids"].items()])
    line(f"برنده: {report['winner'] or '—'}   نفر دوم: {report['runner_up'] or '—'}")
    if report.get("contract"):
        c = report["contract"]
        line(f"قرارداد: {c.get('code') or '—'} ({status_fa(c.get('status'))})، مبلغ {amount(c.get('amount_rial'))} ریال")
    statements = report.get("status_statements") or {}
    if statements:
        table("صورت‌وضعیت‌ها", ["صورت‌وضعیت", "نتیجه", "قابل پرداخت (ریال)", "علت"],
              [(Ident(name), status_fa(s["result"]), amount(s.get("payable_rial")), reason_text(s.get("reason")))
               for name, s in statements.items()])
    payments = report.get("payments") or {}
    if payments:
        table("پرداخت‌ها", ["پرداخت", "نتیجه", "علت"],
              [(Ident(name), status_fa(p["result"]), reason_text(p.get("reason"))) for name, p in payments.items()])
    if out is not None:
        line(f"بستهٔ شواهد: {out}")
