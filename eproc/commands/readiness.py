"""`eproc readiness --unit U`: who can sign for the commission today (R04)."""
from __future__ import annotations

import typer

from domain.persian import parse_jalali_date, to_tehran
from eproc.context import app_context
from eproc.errors import run_command
from eproc.output import emit_json, table

COMMISSION_ROLES = ("chair", "finance", "technical", "legal", "security")


def readiness_rows(ctx, unit: str, day):
    from services.certificate_registry import SqlCertificateRegistry
    from signing.readiness import MemberRole, readiness
    from signing.token import token_present

    with ctx.uow() as uow:
        uow.units.get(unit)
        members = [MemberRole(ra.national_id, uow.people.get(ra.national_id).full_name, ra.role, unit)
                   for ra in uow.roles.holders(unit, day, COMMISSION_ROLES)]
    certs = [c for m in members for c in SqlCertificateRegistry(ctx.sessions).for_person(m.national_id)]

    def present(label: str) -> bool:
        try:
            return token_present(label, ctx.settings.pkcs11_module)
        except Exception:  # noqa: BLE001 - a missing module means no token is present
            return False

    return readiness(members, certs, day, present)


def register(app: typer.Typer) -> None:
    @app.command("readiness", help="آمادگی امضای اعضای کمیسیون یک واحد — which commission members hold a "
                                   "valid certificate on a token today (R04)")
    def readiness_cmd(unit: str = typer.Option(..., "--unit", help="شناسهٔ واحد — unit id"),
                      on: str = typer.Option(None, "--date", help="تاریخ شمسی؛ پیش‌فرض امروز — Jalali date"),
                      json_out: bool = typer.Option(False, "--json")) -> None:
        def go() -> None:
            ctx = app_context()
            ctx.migrate()
            day = parse_jalali_date(on) if on else to_tehran(ctx.clock.now()).date()
            rows = readiness_rows(ctx, unit, day)
            if json_out:
                emit_json([r.to_dict() for r in rows])
                return
            table(f"آمادگی امضای کمیسیون — {unit}", ["سمت", "نام", "کد ملی", "وضعیت", "روز مانده", "توکن"],
                  [(r.role, r.full_name, r.national_id, r.status_fa, r.days_left, r.token_label) for r in rows],
                  persian=ctx.settings.persian)

        run_command(go, json_out)
