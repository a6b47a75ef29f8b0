from __future__ import annotations

import typer

from eproc.context import app_context
from eproc.errors import run_command
from eproc.output import console, emit_json

app = typer.Typer(help="پایگاه داده — database", no_args_is_help=True)


@app.command("upgrade", help="ارتقای پایگاه داده به آخرین مهاجرت — migrate the database to head")
def upgrade(json_out: bool = typer.Option(False, "--json", help="خروجی JSON — JSON output")) -> None:
    def go() -> None:
        ctx = app_context()
        ctx.migrate()
        url = ctx.engine.url.render_as_string(hide_password=True)
        if json_out:
            emit_json({"upgraded": True, "database": url})
        else:
            console.print(f"پایگاه داده به‌روز شد: {url}")

    run_command(go, json_out)


@app.command("check", help="مقایسهٔ پایگاه داده با مدل‌ها — report drift between database and models")
def check(json_out: bool = typer.Option(False, "--json", help="خروجی JSON — JSON output")) -> None:
    from store.migrate import drift

    def go() -> None:
        diffs = drift(app_context().engine)
        if json_out:
            emit_json({"drift": [str(d) for d in diffs]})
        else:
            console.print("بدون اختلاف" if not diffs else "\n".join(str(d) for d in diffs))
        if diffs:
            raise typer.Exit(1)

    run_command(go, json_out)
