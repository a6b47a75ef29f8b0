from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

from domain.persian import format_jalali_date, normalize, parse_int, parse_jalali_date
from eproc.context import AppContext, app_context
from eproc.errors import run_command
from eproc.output import console, emit_json, table

if TYPE_CHECKING:
    from store.uow import UnitOfWork

app = typer.Typer(help="ثبت واحدها، اشخاص، شرکت‌ها و سمت‌ها — registries of units, people, companies, roles",
                  no_args_is_help=True)

ACTOR = "cli"


def sync_units(ctx: AppContext) -> int:
    """Units come from the versioned policy; adding them twice is harmless."""
    from services.legacy import ensure_units

    return len(ensure_units(ctx.sessions, ctx.policy, ctx.clock, ACTOR))


def _register(action: str, entity: str, add: Callable[[UnitOfWork], Any], json_out: bool) -> None:
    """Add one registry row in its own transaction, audited; print its national ID."""
    ctx = app_context()
    with ctx.uow() as uow:
        nid = add(uow).national_id
        uow.record(at=ctx.clock.now(), actor=ACTOR, action=action, entity=entity, entity_id=nid)
        uow.commit()
    emit_json({"national_id": nid}) if json_out else console.print(f"ثبت شد: {nid}")


@app.command("sync-units", help="ثبت واحدهای سیاست در پایگاه داده — load units from the policy")
def sync_units_cmd(json_out: bool = typer.Option(False, "--json")) -> None:
    def go() -> None:
        ctx = app_context()
        ctx.migrate()
        n = sync_units(ctx)
        emit_json({"added": n}) if json_out else console.print(f"{n} واحد افزوده شد.")

    run_command(go, json_out)


@app.command("add-person", help="ثبت شخص با کد ملی — register a person by national ID")
def add_person(national_id: str = typer.Option(..., "--nid", help="کد ملی — national ID"),
               name: str = typer.Option(..., "--name", help="نام و نام خانوادگی — full name"),
               mobile: str = typer.Option(None, "--mobile", help="تلفن همراه — mobile"),
               json_out: bool = typer.Option(False, "--json")) -> None:
    def go() -> None:
        _register("person.add", "person",
                  lambda uow: uow.people.add(national_id, name, normalize(mobile) if mobile else None), json_out)

    run_command(go, json_out)


@app.command("add-company", help="ثبت شرکت با شناسهٔ ملی — register a company by national ID")
def add_company(national_id: str = typer.Option(..., "--nid", help="شناسهٔ ملی ۱۱ رقمی — 11-digit ID"),
                name: str = typer.Option(..., "--name"),
                economic_code: str = typer.Option(..., "--economic-code", help="کد اقتصادی — economic code"),
                grade: str = typer.Option(..., "--grade", help="رتبه — grade"),
                json_out: bool = typer.Option(False, "--json")) -> None:
    def go() -> None:
        _register("company.add", "company",
                  lambda uow: uow.companies.add(national_id, name, economic_code, parse_int(grade, "رتبه")), json_out)

    run_command(go, json_out)


@app.command("assign-role", help="انتساب سمت در واحد برای یک دوره — assign a role in a unit for a period")
def assign_role(national_id: str = typer.Option(..., "--nid"),
                role: str = typer.Option(..., "--role", help="chair|finance|technical|legal|security|treasurer|..."),
                unit: str = typer.Option(..., "--unit"),
                valid_from: str = typer.Option(..., "--from", help="تاریخ شمسی آغاز — Jalali start"),
                valid_until: str = typer.Option(None, "--until", help="تاریخ شمسی پایان — Jalali end (exclusive)"),
                alternate_for: str = typer.Option(None, "--alternate-for", help="جانشینِ — alternate for (national ID)"),
                json_out: bool = typer.Option(False, "--json")) -> None:
    def go() -> None:
        ctx = app_context()
        start = parse_jalali_date(valid_from)
        end = parse_jalali_date(valid_until) if valid_until else None
        with ctx.uow() as uow:
            uow.units.get(unit)
            ra = uow.roles.assign(national_id, role, unit, start, end, alternate_for)
            uow.record(at=ctx.clock.now(), actor=ACTOR, action="role.assign", entity="person",
                       entity_id=ra.national_id, payload={"role": role, "unit": unit,
                                                          "from": format_jalali_date(start)})
            uow.commit()
        emit_json({"assigned": True}) if json_out else console.print("سمت ثبت شد.")

    run_command(go, json_out)


@app.command("roles", help="دارندگان سمت‌ها در یک واحد در یک تاریخ — who holds which role")
def roles(unit: str = typer.Option(..., "--unit"), on: str = typer.Option(..., "--date"),
          json_out: bool = typer.Option(False, "--json")) -> None:
    def go() -> None:
        ctx = app_context()
        day = parse_jalali_date(on)
        with ctx.uow() as uow:
            uow.units.get(unit)
            rows = [(ra.role, ra.national_id, format_jalali_date(ra.valid_from),
                     format_jalali_date(ra.valid_until) if ra.valid_until else None)
                    for ra in uow.roles.holders(unit, day)]
        if json_out:
            emit_json([dict(zip(("role", "national_id", "from", "until"), r)) for r in rows])
        else:
            table(f"سمت‌ها در {unit}", ["سمت", "کد ملی", "از", "تا"], rows, persian=ctx.settings.persian)

    run_command(go, json_out)
