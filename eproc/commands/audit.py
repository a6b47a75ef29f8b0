from __future__ import annotations

from pathlib import Path

import typer

from eproc.context import app_context
from eproc.errors import run_command
from eproc.output import console, emit_json
from store.audit import verify_chain

app = typer.Typer(help="گزارش ممیزی زنجیره‌ای — hash-chained audit log", no_args_is_help=True)


@app.command("verify", help="بازمحاسبهٔ زنجیره و گزارش نخستین ردیف شکسته — recompute the chain")
def verify(json_out: bool = typer.Option(False, "--json", help="خروجی JSON — JSON output")) -> None:
    def go() -> None:
        ctx = app_context()
        with ctx.uow() as uow:
            report = verify_chain(uow.audit.entries())
        if json_out:
            emit_json(report.to_dict())
        else:
            console.print(f"زنجیرهٔ ممیزی سالم است ({report.entries} ردیف)." if report.ok else
                          f"[red]زنجیره در ردیف {report.first_broken_seq} شکسته است:[/] {report.problem}")
        if not report.ok:
            raise typer.Exit(1)

    run_command(go, json_out)


@app.command("export", help="خروجی JSONL گزارش ممیزی — export the log as JSON lines")
def export(path: Path = typer.Argument(..., help="پروندهٔ خروجی — output file")) -> None:
    def go() -> None:
        ctx = app_context()
        path.parent.mkdir(parents=True, exist_ok=True)
        with ctx.uow() as uow, path.open("w", encoding="utf-8") as out:
            n = uow.audit.export_jsonl(out)
        console.print(f"{n} ردیف نوشته شد: {path}")

    run_command(go)
