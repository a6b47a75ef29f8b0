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
