from __future__ import annotations

from datetime import date
from typing import Any

import typer

from domain.persian import parse_jalali_date
from domain.reasons import DomainError, Reason
from eproc.context import app_context
from eproc.errors import run_command
from eproc.output import console, emit_json, table

app = typer.Typer(help="سیاست‌ها و تقویم قواعد — policy calendar and defaults", no_args_is_help=True)


@app.command("show", help="اثر قواعد بر یک واحد در یک تاریخ و چرایی آن — the rules in force for a unit on a date, and why")
def show(unit: str = typer.Option(..., "--unit", help="شناسهٔ واحد، مثل district-12 — unit id"),
         on: str = typer.Option(..., "--date", help="تاریخ شمسی، مثل ۱۴۰۰/۰۴/۲۰ — Jalali date"),
         json_out: bool = typer.Option(False, "--json", help="خروجی JSON — JSON output")) -> None:
    from services import rules_calendar

    def go() -> None:
        ctx = app_context()
        day: date = parse_jalali_date(on)
        ctx.policy.unit(unit)
        ctx.migrate()
        info = rules_calendar.describe(ctx, unit, day)
        if json_out:
            emit_json(info)
            return
        rules: dict[str, Any] = info["rules"]  # type: ignore[assignment]
        table(f"قواعد در {info['unit_name']} در {info['date']} (تقویم {info['calendar_version']})",
              ["قاعده", "rule", "وضعیت", "به‌موجب"],
              [(r["label"], k, "فعال" if r["in_force"] else "غیرفعال", _source_fa(r["source"]))
               for k, r in rules.items()],
              persian=ctx.settings.persian)
        console.print("مراحل گردش قرارداد: " + " ← ".join(info["workflow"]))  # type: ignore[arg-type]
        console.print("شیوه‌های ثبت قرارداد: " + "، ".join(info["registration_modes"]))  # type: ignore[arg-type]
        console.print("متن آگهی دربارهٔ اسناد: " + str(info["notice_wording"]))
        if info["pending_changes"]:
            console.print("تغییرهای در انتظار تأیید: " + "، ".join(map(str, info["pending_changes"])))  # type: ignore[call-overload]

    run_command(go, json_out)


def _source_fa(source: dict[str, Any]) -> str:
    kind, ref, since = source["kind"], source["ref"], source.get("since")
    if kind == "calendar":
        return f"تقویم سیاست {ref} از {since}"
    if kind == "event":
        return f"رویداد {ref} در {since}"
    if kind == "change":
        return f"تغییر مصوب {ref} از {since} (تأیید {source.get('by')})"
    return "هیچ حکمی (پیش‌فرض: غیرفعال)"


def _on_off(value: str) -> bool:
    if value not in ("on", "off"):
        raise DomainError(Reason.INVALID_INPUT, "مقدار قاعده on یا off است")
    return value == "on"


def _print_change(info: dict[str, Any]) -> None:
    console.print(f"تغییر {info['version']}: {info['rule']} = {'on' if info['value'] else 'off'} برای "
                  f"{'، '.join(info['units'])} از {info['from']}" + (f" تا {info['until']}" if info["until"] else "")
                  + f" — {info['status']}")
    for s in info["slide_backs"]:
        console.print(f"  بازگشت قاعده برای {s['unit']} از {s['on']} (اکنون به‌موجب {s['was']['ref']})")


@app.command("propose", help="پیشنهاد تغییر تقویم قواعد — propose a change to the rules calendar (R27)")
def propose(rule: str = typer.Option(..., "--rule", help="نام قاعده — rule name"),
            units: list[str] = typer.Option(..., "--unit", help="واحد (تکرارپذیر؛ * همهٔ واحدها) — unit, repeatable"),
            from_: str = typer.Option(..., "--from", help="از تاریخ شمسی — Jalali start day"),
            until: str = typer.Option(None, "--until", help="تا تاریخ شمسی (انحصاری) — Jalali end day, exclusive"),
            value: str = typer.Option("on", "--value", help="on | off"),
            proposer: str = typer.Option(..., "--nid", help="کد ملی پیشنهاددهنده — proposer's national ID"),
            note: str = typer.Option(..., "--note", help="شرح و مستند تغییر (صورتجلسه) — reason and reference"),
            json_out: bool = typer.Option(False, "--json")) -> None:
    from services import rules_calendar

    def go() -> None:
        ctx = app_context()
        ctx.migrate()
        info = rules_calendar.propose_change(ctx, proposer, rule, units, parse_jalali_date(from_),
                                             parse_jalali_date(until) if until else None, _on_off(value), note)
        if json_out:
            emit_json(info.to_dict())
        else:
            _print_change(info.to_dict())

    run_command(go, json_out)


@app.command("approve", help="تأیید تغییر تقویم قواعد — approve a change to the rules calendar (R27)")
def approve(version: int = typer.Argument(..., help="شمارهٔ نسخهٔ تغییر — change version"),
            approver: str = typer.Option(..., "--nid", help="کد ملی تأییدکننده — approver's national ID"),
            slide_back: bool = typer.Option(False, "--approve-slide-back",
                                            help="تأیید صریح بازگرداندن قاعده — explicitly approve switching a rule back"),
            json_out: bool = typer.Option(False, "--json")) -> None:
    from services import rules_calendar

    def go() -> None:
        ctx = app_context()
        ctx.migrate()
        info = rules_calendar.approve_change(ctx, version, approver, slide_back)
        if json_out:
            emit_json(info.to_dict())
        else:
            _print_change(info.to_dict())

    run_command(go, json_out)


@app.command("changes", help="تغییرهای تقویم قواعد — the change records of the rules calendar")
def changes(json_out: bool = typer.Option(False, "--json")) -> None:
    from services import rules_calendar

    def go() -> None:
        ctx = app_context()
        ctx.migrate()
        found = [c.to_dict() for c in rules_calendar.changes(ctx)]
        if json_out:
            emit_json(found)
            return
        for info in found:
            _print_change(info)

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
