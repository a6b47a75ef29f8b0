from __future__ import annotations

from datetime import date

import typer

from domain.persian import parse_jalali_date
from eproc.context import app_context
from eproc.errors import run_command
from eproc.output import console, emit_json, table

app = typer.Typer(help="سیاست‌ها و تقویم قواعد — policy calendar and defaults", no_args_is_help=True)


@app.command("show", help="اثر قواعد بر یک واحد در یک تاریخ — the rules in force for a unit on a date")
def show(unit: str = typer.Option(..., "--unit", help="شناسهٔ واحد، مثل district-12 — unit id"),
         on: str = typer.Option(..., "--date", help="تاریخ شمسی، مثل ۱۴۰۰/۰۴/۲۰ — Jalali date"),
         json_out: bool = typer.Option(False, "--json", help="خروجی JSON — JSON output")) -> None:
    def go() -> None:
        ctx = app_context()
        day: date = parse_jalali_date(on)
        info = ctx.policy.describe(unit, day)
        if json_out:
            emit_json(info)
            return
        table(f"قواعد در {info['unit_name']} در {info['date']} (سیاست {info['policy_version']})",
              ["قاعده", "rule", "وضعیت"],
              [(r["label"], k, "فعال" if r["in_force"] else "غیرفعال") for k, r in info["rules"].items()],
              persian=ctx.settings.persian)
        console.print("مراحل گردش قرارداد: " + " ← ".join(info["workflow"]))

    run_command(go, json_out)


@app.command("validate", help="بررسی پروندهٔ سیاست — validate a policy file")
def validate(path: str = typer.Argument(..., help="مسیر پرونده — file path"),
             json_out: bool = typer.Option(False, "--json")) -> None:
    from config.policy import load_policy

    def go() -> None:
        pol = load_policy(path)
        if json_out:
            emit_json({"valid": True, "version": pol.version})
        else:
            console.print(f"معتبر است (نسخهٔ {pol.version})")

    run_command(go, json_out)
