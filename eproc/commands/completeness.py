"""`eproc completeness ...`: monthly completeness checks and the units' correction inboxes (R31),
republishing a corrected record, and reconciliation against a Treasury statement (R29).
File formats: docs/completeness.md."""
from __future__ import annotations

from pathlib import Path

import typer

from eproc.context import app_context
from eproc.errors import run_command
from eproc.output import Ident, emit_json, line, reason_text, table

app = typer.Typer(help="کنترل کامل‌بودن ثبت و تطبیق با خزانه — completeness checks and Treasury reconciliation",
                  no_args_is_help=True)

JSON_HELP = "خروجی JSON — JSON output"


@app.command("check", help="مقایسهٔ تعداد اعلامی ذی‌حساب‌ها و واحدهای حقوقی با سامانه — compare declared counts (R31)")
def check(file: Path = typer.Argument(..., help="پروندهٔ CSV اعلام تعداد ماه — the month's declaration CSV"),
          year: str = typer.Option(..., "--year", help="سال شمسی، مثل ۱۴۰۰ — Jalali year"),
          month: str = typer.Option(..., "--month", help="ماه شمسی ۱ تا ۱۲ — Jalali month"),
          json_out: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    from domain.persian import parse_int
    from services.completeness import check as run_check, difference_dict

    def go() -> None:
        ctx = app_context()
        ctx.migrate()
        result = run_check(file, parse_int(year, "سال"), parse_int(month, "ماه"), sessions=ctx.sessions,
                           policy=ctx.policy, clock=ctx.clock)
        if json_out:
            emit_json(result.to_dict())
            return
        rows = []
        for unit, diffs in result.by_unit().items():
            if not diffs:
                rows.append([Ident(unit), "—", "—", "—", "—", "—", "تعدادها برابر است"])
            for d in map(difference_dict, diffs):
                rows.append([Ident(unit), d["source_fa"], d["threshold_class_fa"], d["measure_fa"], d["declared"],
                             d["counted"], reason_text(d["reason"]) or d["kind_fa"]])
        table(f"کنترل کامل‌بودن ثبت — {result.period}", ["واحد", "منبع", "نصاب", "شمارش", "اعلامی", "سامانه",
                                                         "اختلاف"], rows)
        for b in result.bad_lines:
            line(f"سطر {b.line}: {b.reason.value} — {b.detail}")

    run_command(go, json_out)


@app.command("inbox", help="کارتابل اصلاح هر واحد و پیشرفت هفتگی تا مهلت — correction inbox, weekly progress (R31)")
def inbox(unit: str = typer.Option(None, "--unit", help="فقط یک واحد — one unit only"),
          json_out: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    from services.completeness import inbox as unit_inboxes

    def go() -> None:
        ctx = app_context()
        ctx.migrate()
        inboxes = [i.to_dict() for i in unit_inboxes(ctx.sessions, ctx.policy, ctx.clock, unit)]
        if json_out:
            emit_json({"units": inboxes})
            return
        status_fa = {"done": "انجام شد", "on_track": "طبق برنامه", "behind": "عقب از برنامه", "overdue": "مهلت گذشته"}
        for i in inboxes:
            table(f"کارتابل اصلاح {i['unit']} — {status_fa[i['status']]} — مهلت {i['deadline_jalali'] or '—'}",
                  ["هفته", "پایان هفته", "باز شده", "اصلاح شده", "باز", "مجاز تا مهلت"],
                  [[w["week"], w["ends_jalali"], w["opened"], w["resolved"], w["open"], w["allowed_open"]]
                   for w in i["weeks"]])
            for item in i["items"]:
                line(f"  {item['period']} {item['source_fa']} {item['threshold_class_fa']} {item['measure_fa']}: "
                     f"اعلامی {item['declared']}، سامانه {item['counted']} — {item['kind_fa']}")
            if i["legacy_open"]:
                line(f"  ردیف‌های قدیمی در انتظار اصلاح: {i['legacy_open']}")

    run_command(go, json_out)


@app.command("republish", help="اصلاح و انتشار دوبارهٔ قرارداد منتشرشده — correct and republish a record (R31)")
def republish(code: str = typer.Option(..., "--code", help="کد قرارداد — contract code"),
              changes: list[str] = typer.Option([], "--set", help="فیلد=مقدار — field=value (repeatable)"),
              rationale: str = typer.Option(..., "--rationale", help="دلیل اصلاح — why"),
              json_out: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    from domain.reasons import DomainError, Reason
    from eproc import wiring
    from services.completeness import republish as run_republish

    def go() -> None:
        parsed = {}
        for item in changes:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise DomainError(Reason.INVALID_INPUT, f"«{item}» به شکل فیلد=مقدار نیست")
            parsed[key.strip()] = value
        deps = wiring.production()
        if deps.publisher is None:
            raise DomainError(Reason.INVALID_INPUT, "سامانهٔ شفافیت پیکربندی نشده است")
        out = run_republish(deps, code, deps.publisher, parsed, rationale, actor="cli").to_dict()
        if json_out:
            emit_json(out)
            return
        line(f"{out['contract_code']}: {out['status']} {out['release_id'] or ''} {reason_text(out['reason']) or ''}")

    run_command(go, json_out)


@app.command("treasury", help="تطبیق پرداخت‌ها با صورت خزانه — reconcile payments with a Treasury statement (R29)")
def treasury(file: Path = typer.Argument(..., help="صورت خزانه (CSV) — Treasury statement CSV"),
             first: str = typer.Option(None, "--from", help="از تاریخ شمسی — first Jalali day"),
             last: str = typer.Option(None, "--to", help="تا تاریخ شمسی — last Jalali day"),
             json_out: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    from domain.persian import parse_jalali_date
    from services.contract.treasury import reconcile_statement

    def go() -> None:
        ctx = app_context()
        ctx.migrate()
        result = reconcile_statement(file, sessions=ctx.sessions, clock=ctx.clock,
                                     first_day=parse_jalali_date(first) if first else None,
                                     last_day=parse_jalali_date(last) if last else None).to_dict()
        if json_out:
            emit_json(result)
            return
        table(f"تطبیق با صورت خزانه {result['from'] or ''} تا {result['to'] or ''}",
              ["سطر", "کلید پرداخت", "اختلاف", "مبلغ خزانه", "مبلغ سامانه", "کد خزانه", "کد سامانه"],
              [[m["line"], Ident(m["payment_key"]), m["description"], m["treasury_rial"], m["system_rial"],
                Ident(m["treasury_code"] or "—"), Ident(m["system_code"] or "—")] for m in result["mismatches"]])
        for b in result["bad_lines"]:
            line(f"سطر {b['line']}: {b['reason']} — {b['detail']}")

    run_command(go, json_out)
