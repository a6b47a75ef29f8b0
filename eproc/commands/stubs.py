"""`eproc stub serve SYSTEM`: an outside system's stub as its own small HTTP service (issue 13 part 4).

    eproc stub serve financial --port 8601 --db /var/lib/fin/fin.db --transactions-url http://127.0.0.1:8400
    eproc stub serve project-control --port 8602 --db pc.db --transactions-url ...
    eproc stub serve transparency --port 8603 --db tp.db --transactions-url ...

Each is a separate process with a SQLite database of its own (`--db`), bound to 127.0.0.1 unless told
otherwise; it reads contracts, their registration and statements from the transactions system's API
by code (integrations.http.registration) and answers the engine's HTTP clients (integrations/http),
which eproc.wiring uses when EPROC_INTEGRATIONS=http.
"""
from __future__ import annotations

from pathlib import Path

import typer

from eproc.errors import run_command

app = typer.Typer(help="سامانه‌های بیرونی شبیه‌سازی‌شده به صورت سرویس — outside-system stubs as services",
                  no_args_is_help=True, rich_markup_mode=None)
SYSTEMS = ("financial", "project-control", "transparency")


def build_app(system: str, db: Path, transactions_url: str):  # -> fastapi.FastAPI
    """The service of `system` on the SQLite file `db`, reading the transactions API at `transactions_url`.

    Raises: INVALID_INPUT for an unknown system or a missing transactions URL."""
    from config.policy import load_policy
    from config.settings import get_settings
    from domain.clock import SystemClock
    from domain.reasons import DomainError, Reason
    from integrations.http.registration import HttpTransactionsReader
    from integrations.services._web import service_database

    if system not in SYSTEMS:
        raise DomainError(Reason.INVALID_INPUT, f"سامانهٔ «{system}» یکی از {', '.join(SYSTEMS)} نیست")
    if not transactions_url:
        raise DomainError(Reason.INVALID_INPUT, "نشانی سامانهٔ معاملات (--transactions-url یا EPROC_TRANSACTIONS_URL) لازم است")
    engine = service_database(db)
    reader = HttpTransactionsReader(transactions_url)
    clock = SystemClock()
    if system == "financial":
        from integrations.services import financial

        return financial.create_app(financial.FinancialService(engine, reader, clock))
    if system == "project-control":
        from integrations.services import project_control
        from integrations.stubs.project_control import ProjectControlStub

        return project_control.create_app(ProjectControlStub(engine, reader, clock))
    from integrations.services import transparency
    from integrations.stubs.transparency import TransparencyPublisherStub

    policy = load_policy(get_settings().policy_file)
    stub = TransparencyPublisherStub(engine, clock, publication_cutoff=policy.publication.cutoff,
                                     publisher_name=policy.publication.publisher)
    return transparency.create_app(stub, reader)


@app.command("serve", help="سرویس یک سامانهٔ بیرونی با پایگاه دادهٔ خودش — serve one outside system "
                           "(financial, project-control, transparency) with its own database")
def serve(system: str = typer.Argument(..., help="financial | project-control | transparency"),
          db: Path = typer.Option(..., "--db", help="پروندهٔ SQLite خود سرویس — the service's own SQLite file"),
          transactions_url: str = typer.Option(None, "--transactions-url",
                                               help="نشانی رابط سامانهٔ معاملات — the transactions API "
                                                    "(default EPROC_TRANSACTIONS_URL)"),
          port: int = typer.Option(..., "--port", min=1, max=65535, help="درگاه — port"),
          host: str = typer.Option("127.0.0.1", "--host", help="نشانی شنود — address to bind"),
          log_level: str = typer.Option("info", "--log-level", help="سطح گزارش uvicorn — uvicorn log level"),
          ) -> None:
    def go() -> None:
        import uvicorn

        from config.settings import get_settings

        service = build_app(system, db, transactions_url or get_settings().transactions_url or "")
        uvicorn.run(service, host=host, port=port, log_level=log_level, server_header=False)

    run_command(go)


@app.command("blacklist", help="ثبت محرومیت پیمانکار در فهرست پیمانکاران (شبیه‌ساز) — put a company on the "
                               "contractor registry's blacklist (R25; the registry's stub on the engine's database)")
def blacklist(company: str = typer.Option(..., "--company", help="شناسهٔ ملی شرکت — company national ID"),
              start: str = typer.Option(..., "--from", help="از تاریخ (جلالی) — from (Jalali date)"),
              end: str = typer.Option(None, "--to", help="تا تاریخ (جلالی؛ خالی: تا رفع) — to (empty: until lifted)"),
              reason: str = typer.Option(..., "--reason", help="علت — reason"),
              reference: str = typer.Option(..., "--reference", help="شمارهٔ رأی یا نامه — ruling or letter"),
              json_out: bool = typer.Option(False, "--json")) -> None:
    """The registry's own rules apply (a registered company, an end not before the start); a company the
    engine knows but the registry's stub does not yet is registered there first from the engine's
    companies table, as the real registry already holds every contractor."""
    def go() -> None:
        from domain.persian import clean_identifier, parse_jalali_date
        from eproc.context import app_context
        from eproc.output import console, emit_json
        from integrations.contractor_registry import BlacklistEntry, Company
        from integrations.stubs.contractor_registry import ContractorRegistryStub
        from store.stub_tables import create_stub_tables

        ctx = app_context()
        ctx.migrate()
        engine = ctx.sessions.kw["bind"]
        create_stub_tables(engine)
        registry = ContractorRegistryStub(engine, ctx.clock)
        key = clean_identifier(company)
        if registry.company(key) is None:
            with ctx.uow() as uow:
                known = uow.companies.get(key)
                if known is not None:
                    ceo = uow.people.get(known.ceo_national_id) if known.ceo_national_id else None
                    registry.register_company(Company(known.national_id, known.name, known.economic_code,
                                                      known.grade, known.ceo_national_id or "",
                                                      ceo.full_name if ceo else ""))
        entry = registry.add_to_blacklist(BlacklistEntry(key, parse_jalali_date(start),
                                                         parse_jalali_date(end) if end else None, reason, reference))
        with ctx.uow() as uow:
            uow.record(at=ctx.clock.now(), actor="cli", action="registry.blacklisted", entity="company",
                       entity_id=entry.company_id, payload={"from": entry.start_date.isoformat(),
                                                            "to": entry.end_date.isoformat() if entry.end_date else None,
                                                            "reference": entry.reference})
            uow.commit()
        result = {"company_id": entry.company_id, "from": entry.start_date.isoformat(),
                  "to": entry.end_date.isoformat() if entry.end_date else None, "reason": entry.reason,
                  "reference": entry.reference}
        emit_json(result) if json_out else console.print(f"در فهرست محرومان ثبت شد: {entry.company_id}")

    run_command(go, json_out)
