"""`eproc up` / `eproc down`: a local production-like stack (PostgreSQL, Prefect server, workers)."""
from __future__ import annotations

from pathlib import Path

import typer

from eproc.errors import run_command
from eproc.output import console, emit_json

RUN_DIR_HELP = "پوشهٔ وضعیت پشته (پیش‌فرض: EPROC_DATA_DIR/stack) — stack state directory"


def register(app: typer.Typer) -> None:
    app.command("up", help="راه‌اندازی پشتهٔ محلی: PostgreSQL، سرور Prefect، کارگرها و استقرارها — "
                           "start PostgreSQL, the Prefect server, workers and deployments")(up)
    app.command("down", help="توقف هر آنچه «up» آغاز کرد، با شناسهٔ فرایند — stop what `up` started")(down)
    app.command("schedule-tender", help="زمان‌بندی اجرای مناقصه در زمان بازگشایی — "
                                        "schedule a tender's run at its opening time")(schedule_tender)


def up(workers: int = typer.Option(1, "--workers", min=1, help="تعداد کارگرها — number of workers"),
       port: int = typer.Option(4200, "--port", help="درگاه سرور Prefect روی 127.0.0.1 — Prefect server port"),
       pg_port: int = typer.Option(54340, "--pg-port", help="درگاه PostgreSQL خصوصی — private PostgreSQL port"),
       api_port: int = typer.Option(8400, "--api-port", help="درگاه API سامانهٔ معاملات روی 127.0.0.1 — the "
                                    "transactions system's API port (eproc serve)"),
       pg_url: str = typer.Option(None, "--pg-url", help="PostgreSQL موجود (نشانی مدیر) — existing PostgreSQL admin URL"),
       pg_dir: Path = typer.Option(None, "--pg-dir", help="پوشهٔ خوشهٔ PostgreSQL — PostgreSQL cluster directory"),
       run_dir: Path = typer.Option(None, "--run-dir", help=RUN_DIR_HELP),
       zombie_after: int = typer.Option(120, "--crash-after", min=45,
                                        help="ثانیه‌های بی‌ضربان تا «Crashed» — seconds without heartbeat"),
       json_out: bool = typer.Option(False, "--json", help="خروجی JSON — JSON output")) -> None:
    def go() -> None:
        from eproc.stack.config import StackConfig, default_pg_dir
        from eproc.stack.lifecycle import config_for, up as stack_up

        rd = config_for(run_dir).run_dir
        cfg = StackConfig(run_dir=rd, pg_dir=pg_dir or default_pg_dir(rd), pg_port=pg_port, port=port,
                          workers=workers, pg_url=pg_url, zombie_after=zombie_after, api_port=api_port)
        result = stack_up(cfg, say=(lambda m: None) if json_out else (lambda m: console.print(f"… {m}")))
        if json_out:
            emit_json(result.to_dict())
            return
        console.print(f"پشته آماده است. رابط کاربری Prefect: {result.ui_url}")
        console.print(f"استقرارها: {'، '.join(result.deployments)}")
        if result.skipped:
            console.print(f"[yellow]بدون کد جریان، مستقر نشد:[/] {'، '.join(result.skipped)}")

    run_command(go, json_out)


def down(run_dir: Path = typer.Option(None, "--run-dir", help=RUN_DIR_HELP),
         json_out: bool = typer.Option(False, "--json", help="خروجی JSON — JSON output")) -> None:
    def go() -> None:
        from eproc.stack.lifecycle import config_for, down as stack_down

        stopped = stack_down(config_for(run_dir))
        if json_out:
            emit_json({"stopped": stopped})
        else:
            console.print("متوقف شد: " + ("، ".join(stopped) if stopped else "هیچ فرایندی در حال اجرا نبود"))

    run_command(go, json_out)


def schedule_tender(tender_id: str = typer.Argument(..., help="شناسهٔ مناقصه — tender id"),
                    run_dir: Path = typer.Option(None, "--run-dir", help=RUN_DIR_HELP),
                    json_out: bool = typer.Option(False, "--json", help="خروجی JSON — JSON output")) -> None:
    def go() -> None:
        import os

        from eproc.stack.lifecycle import config_for
        from eproc.stack.schedule import schedule_tender as schedule

        cfg = config_for(run_dir)
        os.environ.update(cfg.prefect_env())
        os.environ.setdefault("EPROC_DATABASE_URL", cfg.app_url)
        run = schedule(tender_id)
        if json_out:
            emit_json(run)
        else:
            console.print(f"اجرای {run['name']} برای {run['scheduled_for']} زمان‌بندی شد.")

    run_command(go, json_out)
