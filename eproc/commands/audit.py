from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from domain.reasons import DomainError, Reason
from eproc.context import AppContext, app_context
from eproc.errors import run_command
from eproc.output import console, emit_json

if TYPE_CHECKING:
    from cryptography import x509

app = typer.Typer(help="گزارش ممیزی زنجیره‌ای — hash-chained audit log", no_args_is_help=True)


@app.command("verify", help="بازمحاسبهٔ زنجیره و گزارش نخستین ردیف شکسته، و سنجش آن با نقطه‌های وارسی "
                            "امضاشدهٔ ذخیره‌شده در پایگاه داده؛ با --checkpoints سنجش با نقطه‌های وارسی منتشرشده نیز "
                            "(بازنویسی یا کوتاه‌شدن) — recompute the chain and hold it against the signed "
                            "checkpoints stored in the database; with --checkpoints, against the published ones too. "
                            "Exit 1: chain broken; exit 2: a checkpoint does not verify or no longer matches the log")
def verify(json_out: bool = typer.Option(False, "--json", help="خروجی JSON — JSON output"),
           checkpoints: Path | None = typer.Option(
               None, "--checkpoints", help="پرونده یا پوشهٔ نقطه‌های وارسی منتشرشده (*.xml) — a published "
                                           "checkpoint file, or a directory of them"),
           ca: Path | None = typer.Option(
               None, "--ca", help="گواهی مرجع صدور گواهی (PEM)؛ پیش‌فرض EPROC_DATA_DIR/ca/ca-cert.pem — "
                                  "the trust anchor")) -> None:
    def go() -> None:
        from services.checkpoints import CheckpointReport, stored_checkpoint_documents, verify_checkpoints
        from store.audit import verify_chain

        ctx = app_context()
        with ctx.uow() as uow:
            report = verify_chain(uow.audit.entries())
        # The engine's own stored checkpoints, always: a log cut below, or rewritten at, a stored
        # signed head fails even when no published copy is at hand (R21).
        stored_documents = stored_checkpoint_documents(ctx.sessions)
        # The trust anchor is loaded (and its absence reported) only when there is a checkpoint to check.
        if stored_documents or checkpoints is not None:
            anchor = _trust_anchor(ctx, ca)
            stored = (verify_checkpoints(ctx.sessions, anchor, stored_documents) if stored_documents
                      else CheckpointReport(0, None, None))
            held = (verify_checkpoints(ctx.sessions, anchor, _read_checkpoints(checkpoints))
                    if checkpoints is not None else None)
        else:
            stored, held = CheckpointReport(0, None, None), None
        ok = report.ok and stored.ok and (held is None or held.ok)
        if json_out:
            emit_json({**report.to_dict(), "ok": ok, "chain_ok": report.ok, "stored_checkpoints": stored.to_dict(),
                       **({"checkpoints": held.to_dict()} if held is not None else {})})
        else:
            console.print(f"زنجیرهٔ ممیزی سالم است ({report.entries} ردیف)." if report.ok else
                          f"[red]زنجیره در ردیف {report.first_broken_seq} شکسته است:[/] {report.problem}")
            if stored.checked:
                console.print(f"نقطه‌های وارسی ذخیره‌شده: {stored.checked} بررسی شد؛ تازه‌ترین ردیف امضاشده "
                              f"{stored.newest_seq or '—'}، آخرین ردیف موجود {stored.stored_last_seq or '—'}.")
                for p in stored.problems:
                    console.print(f"[red]{p.source} (ردیف {p.seq or '—'}) — {p.reason.value}:[/] {p.message}")
            if held is not None:
                console.print(f"نقطه‌های وارسی: {held.checked} بررسی شد؛ تازه‌ترین ردیف امضاشده "
                              f"{held.newest_seq or '—'}، آخرین ردیف موجود {held.stored_last_seq or '—'}.")
                for p in held.problems:
                    console.print(f"[red]{p.source} (ردیف {p.seq or '—'}) — {p.reason.value}:[/] {p.message}")
                if held.ok:
                    console.print("همهٔ نقطه‌های وارسی امضاشده با گزارش ممیزی می‌خوانند.")
        if not stored.ok or (held is not None and not held.ok):
            raise typer.Exit(2)
        if not report.ok:
            raise typer.Exit(1)

    run_command(go, json_out)


def _read_checkpoints(path: Path) -> list[tuple[str, bytes]]:
    """(name, bytes) of the checkpoint file, or of every *.xml in the directory, by name."""
    if path.is_dir():
        files = sorted(path.glob("*.xml"))
        if not files:
            raise DomainError(Reason.INVALID_INPUT, f"در پوشهٔ «{path}» نقطهٔ وارسی (*.xml) نیست")
    elif path.is_file():
        files = [path]
    else:
        raise DomainError(Reason.INVALID_INPUT, f"پرونده یا پوشهٔ «{path}» یافت نشد")
    return [(f.name, f.read_bytes()) for f in files]


def _trust_anchor(ctx: AppContext, ca: Path | None) -> x509.Certificate:
    path = ca or ctx.settings.data_dir / "ca" / "ca-cert.pem"
    if not path.is_file():
        raise DomainError(Reason.INVALID_INPUT, f"گواهی مرجع صدور گواهی یافت نشد: {path}")
    try:
        from cryptography import x509

        return x509.load_pem_x509_certificate(path.read_bytes())
    except ValueError as exc:
        raise DomainError(Reason.INVALID_INPUT, f"گواهی مرجع صدور گواهی خوانا نیست: {path}") from exc


@app.command("export", help="خروجی JSONL گزارش ممیزی — export the log as JSON lines")
def export(path: Path = typer.Argument(..., help="پروندهٔ خروجی — output file")) -> None:
    def go() -> None:
        ctx = app_context()
        path.parent.mkdir(parents=True, exist_ok=True)
        with ctx.uow() as uow, path.open("w", encoding="utf-8") as out:
            n = uow.audit.export_jsonl(out)
        console.print(f"{n} ردیف نوشته شد: {path}")

    run_command(go)
