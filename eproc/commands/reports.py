"""`eproc report ...`: monthly contracts (R15), refused payments, construction projects (R24)."""
from __future__ import annotations

from pathlib import Path

import typer

from eproc.context import AppContext, app_context
from eproc.errors import run_command
from eproc.output import console, emit_json, table

app = typer.Typer(help="گزارش‌ها — reports", no_args_is_help=True)

JSON_HELP = "خروجی JSON — JSON output"
EXCEL_HELP = "پروندهٔ Excel خروجی (برگهٔ راست‌به‌چپ) — write an xlsx file (right-to-left sheet)"


def _show(ctx: AppContext, report, json_out: bool, excel: Path | None) -> None:
    from render.excel import write_report
    from services.reports import table_rows

    if excel is not None:
        write_report(report, excel)
    if json_out:
        emit_json({**report.to_dict(), **({"excel": str(excel)} if excel else {})})
        return
    persian = ctx.settings.persian
    table(report.title, report.headers(), table_rows(report, persian), persian=False)
    if excel is not None:
        console.print(f"پروندهٔ Excel نوشته شد: {excel}")


@app.command("monthly", help="قراردادهای منعقدشده و در جریان هر واحد به تفکیک نصاب — contracts per unit and class (R15)")
def monthly(year: str = typer.Option(..., "--year", help="سال شمسی، مثل ۱۴۰۰ — Jalali year"),
            month: str = typer.Option(..., "--month", help="ماه شمسی ۱ تا ۱۲ — Jalali month"),
            unit: str = typer.Option(None, "--unit", help="فقط یک واحد — one unit only"),
            json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
            excel: Path = typer.Option(None, "--excel", help=EXCEL_HELP)) -> None:
    from domain.persian import parse_int
    from services.reports import monthly_report

    def go() -> None:
        ctx = app_context()
        ctx.migrate()
        # Typed as people write them: Persian digits yes, other scripts' digits no (domain.persian).
        report = monthly_report(ctx.sessions, ctx.policy, parse_int(year, "سال"), parse_int(month, "ماه"), unit)
        _show(ctx, report, json_out, excel)

    run_command(go, json_out)


@app.command("refused-payments", help="تلاش‌های پرداخت ردشده با کد دلیل — refused payment attempts with reason codes")
def refused_payments(json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
                     excel: Path = typer.Option(None, "--excel", help=EXCEL_HELP)) -> None:
    from services.reports import refused_payments_report

    def go() -> None:
        ctx = app_context()
        ctx.migrate()
        _show(ctx, refused_payments_report(ctx.sessions), json_out, excel)

    run_command(go, json_out)


@app.command("projects", help="داده‌های پروژه‌های عمرانی از کنترل پروژه — construction project figures (R24)")
def projects(unit: str = typer.Option(None, "--unit", help="فقط یک واحد — one unit only"),
             json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
             excel: Path = typer.Option(None, "--excel", help=EXCEL_HELP)) -> None:
    from services.reports import project_control_source, projects_report

    def go() -> None:
        ctx = app_context()
        ctx.migrate()
        if unit is not None:
            ctx.policy.unit(unit)
        source = project_control_source(ctx.engine, ctx.clock)
        _show(ctx, projects_report(ctx.sessions, source, unit), json_out, excel)

    run_command(go, json_out)
