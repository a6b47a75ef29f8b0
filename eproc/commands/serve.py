"""`eproc serve`: the transactions system (سامانهٔ جامع معاملات) as an HTTP API (issue 11 part 1).

uvicorn serves `api.app.create_app(eproc.wiring.production())`: the application database, the CA
certificate and the engine's signer from the settings (`EPROC_*`), bound to 127.0.0.1 unless told
otherwise (a TLS-terminating proxy sits in front in production). `eproc up` starts it with the stack.
"""
from __future__ import annotations

import typer

from eproc.errors import run_command

HELP = ("سامانهٔ جامع معاملات به صورت رابط HTTP (پیش‌فرض روی 127.0.0.1) — serve the transactions system's "
        "HTTP API (bound to 127.0.0.1 by default; OpenAPI at /openapi.json)")


def register(app: typer.Typer) -> None:
    app.command("serve", help=HELP)(serve)


def serve(host: str = typer.Option(None, "--host", help="نشانی شنود؛ پیش‌فرض 127.0.0.1 (EPROC_API_HOST) — "
                                                        "address to bind, default 127.0.0.1"),
          port: int = typer.Option(None, "--port", min=1, max=65535,
                                   help="درگاه؛ پیش‌فرض 8400 (EPROC_API_PORT) — port, default 8400"),
          log_level: str = typer.Option("info", "--log-level", help="سطح گزارش uvicorn — uvicorn log level"),
          ) -> None:
    def go() -> None:
        import uvicorn

        from api.app import create_app
        from config.settings import get_settings
        from eproc import wiring
        from signing.token import keep_sessions

        settings = get_settings()
        keep_sessions()  # one logged-in session per token and PIN for the server's life (the burst's receipts)
        app = create_app(wiring.production(settings), settings=settings)
        uvicorn.run(app, host=host or settings.api_host, port=port or settings.api_port, log_level=log_level,
                    server_header=False, proxy_headers=True, forwarded_allow_ips="127.0.0.1")

    run_command(go)
