"""`eproc import ...`: legacy contract migration and the units' correction inbox (R16); `eproc contract
...`: contracts and status statements at the people's own stations (issue 13; R12, R13, R17, R18, R29).

    eproc contract open --tender T --server URL --token officer --unit district-12
    eproc contract terms --tender T --budget-line L --expense-factor E --budget-allocation A \\
        --supervisor NID [--employer-signatory NID ...] [--kind general] [--waste-min-vehicles N ...] ...
    eproc contract show --tender T ... [--role legal]
    eproc contract approve --tender T --role legal --unit district-12 --token legal [--sha256 H]
    eproc contract inbox --role treasurer --unit district-12 --token treasurer
    eproc contract statement submit --tender T --ref s1 --item 010101=3000 --item 020305=1500 \\
        [--vehicles 14 --workers 50] --unit <company national ID> --token contractor
    eproc contract statement show|sign --tender T --ref s1 --role supervisor --unit district-12 ...
    eproc contract registry budget-line --unit U --code L --general-code G --title ...   (registration office)
    eproc contract registry expense-factor --code E --title ... [--committee-ref REF]

Station commands are thin wrappers over stations.contracts; the registry commands write the engine's
database (services.contract.registries)."""
from __future__ import annotations

from pathlib import Path

import typer

from domain.persian import format_jalali_date, parse_int
from domain.reasons import DomainError, Reason
from eproc.context import app_context
from eproc.errors import run_command
from eproc.output import console, emit_json, err_console, table

import_app = typer.Typer(help="ورود داده‌های سامانهٔ قدیم قراردادها — legacy contract migration", no_args_is_help=True)

ACTOR = "cli"


@import_app.command("contracts", help="ورود قراردادهای سامانهٔ قدیم از CSV یا xlsx — import legacy contracts (CSV or xlsx)")
def contracts(path: Path = typer.Argument(..., help="پروندهٔ CSV (UTF-8) یا xlsx — CSV (UTF-8) or xlsx file"),
              unit_column: str = typer.Option(None, "--unit-column",
                                              help="عنوان ستون واحد، اگر نام دیگری دارد — header of the unit column"),
              batch_size: str = typer.Option("2000", "--batch-size",
                                             help="ردیف در هر تراکنش — rows per transaction"),
              json_out: bool = typer.Option(False, "--json", help="خروجی JSON — JSON output")) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from services.legacy import estimate_rows, import_contracts

    def go() -> None:
        size = parse_int(batch_size, "ردیف در هر تراکنش")  # the one number parser (Persian digits too)
        if size < 1:
            raise DomainError(Reason.INVALID_INPUT, f"ردیف در هر تراکنش باید دست‌کم ۱ باشد: «{batch_size}»")
        ctx = app_context()
        ctx.migrate()
        with Progress(TextColumn("ورود قراردادها"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err_console, disable=json_out, transient=True) as progress:
            task = progress.add_task("import", total=estimate_rows(path))
            result = import_contracts(path, sessions=ctx.sessions, policy=ctx.policy, clock=ctx.clock,
                                      actor=ACTOR, unit_column=unit_column, batch_size=size,
                                      progress=lambda n: progress.advance(task, n))
        if json_out:
            emit_json(result.to_dict())
            return
        persian = ctx.settings.persian
        cutoff = format_jalali_date(ctx.policy.publication.cutoff, persian=True)  # the policy's, not a copy
        rows = [(u, s.imported, s.already_imported, s.to_correct, s.not_publishable)
                for u, s in sorted(result.units.items())]
        t = result.totals()
        rows.append(("جمع", t.imported, t.already_imported, t.to_correct, t.not_publishable))
        table(f"ورود {path.name} ({result.rows} ردیف)",
              ["واحد", "واردشده", "پیش‌تر واردشده", "نیازمند اصلاح", f"غیرقابل انتشار (پیش از {cutoff})"],
              rows, persian=persian)
        if t.to_correct:
            console.print("ردیف‌های نیازمند اصلاح در صندوق اصلاح هر واحد است: eproc import corrections --unit …")

    run_command(go, json_out)


@import_app.command("corrections", help="صندوق اصلاح قراردادهای یک واحد — a unit's correction inbox")
def corrections(unit: str = typer.Option(None, "--unit", help="شناسهٔ واحد، مثل district-12 — unit id"),
                include_resolved: bool = typer.Option(False, "--all", help="اصلاح‌شده‌ها هم — include resolved"),
                json_out: bool = typer.Option(False, "--json", help="خروجی JSON — JSON output")) -> None:
    from services.legacy import UNASSIGNED, corrections as inbox

    def go() -> None:
        ctx = app_context()
        ctx.migrate()
        if unit is not None and unit != UNASSIGNED:
            ctx.policy.unit(unit)
        items = inbox(ctx.sessions, unit, include_resolved=include_resolved)
        if json_out:
            emit_json({"unit": unit, "count": len(items), "items": [i.to_dict() for i in items]})
            return
        rows = [(i.unit, i.row_number, i.legacy_id, p.reason, p.field_fa, p.message)
                for i in items for p in i.problems]
        table(f"صندوق اصلاح {unit or 'همهٔ واحدها'} ({len(items)} ردیف)",
              ["واحد", "ردیف پرونده", "شناسهٔ قدیمی", "کد دلیل", "قلم", "مشکل"], rows,
              persian=ctx.settings.persian)

    run_command(go, json_out)


def register(root: typer.Typer) -> None:
    """`eproc import` (this module) and `eproc contract` (eproc.commands.contract: the stations' side)."""
    from eproc.commands.contract import contract_app

    root.add_typer(import_app, name="import")
    root.add_typer(contract_app, name="contract")
