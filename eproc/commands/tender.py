"""`eproc tender create|announce|notice`: a tender from a tender file, announced from the operators'
own stations over the API (issue 11 part 3; R02).

    eproc tender create tender.toml --server https://eproc.example --token officer-12
    eproc tender announce D12-1400-017 --server https://eproc.example --token chair-12 --unit district-12

`create`: the unit's contracts officer sends the file (checked here first with the server's own
parser) signed on their token. `announce`: the unit's authorised signatory (the commission's chair)
fetches the notice as it would be published now, reads it, signs it on their token and sends it; the
engine countersigns and publishes it; the published notice is verified here with the CA certificate.
The server schedules the tender's run at the opening time (when `eproc serve` has Prefect's API,
PREFECT_API_URL); the station reports the run, or why there is none.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from domain.persian import format_jalali_datetime, format_rial
from domain.reasons import DomainError, Reason
from eproc.commands.station_options import JsonOut, KeyLabel, OperatorRole, Server, Token, at_station
from eproc.errors import run_command
from eproc.output import console, emit_json

if TYPE_CHECKING:
    from stations.client import Station

app = typer.Typer(help="مناقصه از پروندهٔ مناقصه، آگهی با امضای توکن — tenders from a tender file, notices "
                       "signed by token", no_args_is_help=True)

CA_HELP = "گواهی مرجع (PEM)؛ بی آن از GET /v1/trust/ca — the CA certificate; default: fetched from the server"


@app.command("create", help="ساخت مناقصه از پروندهٔ مناقصه (TOML) با امضای توکن کارشناس قراردادها — create a "
                            "tender from a tender file, signed on the contracts officer's token")
def create(file: Path = typer.Argument(..., help="پروندهٔ مناقصه (TOML) — the tender file"),
           *, server: Server, token: Token, role: OperatorRole = None, key_label: KeyLabel = "sign",
           json_out: JsonOut = False) -> None:
    def go() -> None:
        from services.tender.files import OPERATOR_ROLE, parse_tender_file
        from stations.operator import create_tender

        try:
            data = file.read_bytes()
        except OSError as exc:
            raise DomainError(Reason.INVALID_INPUT, f"پروندهٔ مناقصه خوانده نشد: {file} ({exc.strerror})") from None
        tf = parse_tender_file(data, file.name)  # the server's own parser: problems are found here first
        out = at_station(server, token, key_label, role or OPERATOR_ROLE, tf.tender.unit,
                         lambda st: create_tender(st, data, file.name))
        if json_out:
            emit_json(out)
        else:
            console.print(f"مناقصهٔ {out['tender_id']} ساخته شد (برآورد {format_rial(out['estimate_rial'], True)} "
                          "ریال)؛ آگهی آن را امضاکنندهٔ مجاز واحد با «eproc tender announce» امضا و منتشر می‌کند.")

    run_command(go, json_out)


def _ca(api: Any, ca: Path | None) -> bytes:
    if ca is not None:
        try:
            return ca.read_bytes()
        except OSError as exc:
            raise DomainError(Reason.INVALID_INPUT, f"گواهی مرجع خوانده نشد: {ca} ({exc.strerror})") from None
    pem: bytes = api.ca_pem()
    return pem


@app.command("announce", help="امضای آگهی با توکن امضاکنندهٔ مجاز واحد و انتشار آن — sign the notice on the "
                              "unit's authorised signatory's token and publish it")
def announce(tender_id: str = typer.Argument(..., help="شناسهٔ مناقصه — tender id"),
             *, server: Server, token: Token,
             unit: Annotated[str, typer.Option("--unit", help="واحد مناقصه — the tender's unit")],
             role: Annotated[str | None, typer.Option("--role", help="سمت؛ پیش‌فرض chair (رئیس کمیسیون) — role")] = None,
             ca: Path | None = typer.Option(None, "--ca", help=CA_HELP),
             out: Path | None = typer.Option(None, "--out", help="ذخیرهٔ آگهی منتشرشده — save the published notice"),
             key_label: KeyLabel = "sign", json_out: JsonOut = False) -> None:
    def go() -> None:
        from domain.documents.notice import NoticeContent
        from services.tender.files import NOTICE_SIGNATORY
        from stations.operator import sign_notice

        def show(shown: NoticeContent) -> None:
            if not json_out:
                console.print(f"امضای آگهی «{shown.title}»: مهلت {format_jalali_datetime(shown.deadline)}، بازگشایی "
                              f"{format_jalali_datetime(shown.opening_at)}، برآورد {format_rial(shown.estimate_rial, True)} ریال")

        told: dict[str, str] = {}

        def calls(st: Station) -> tuple[bytes, Any]:
            return sign_notice(st, tender_id, unit, _ca(st, ca), show, told.update)

        published, content = at_station(server, token, key_label, role or NOTICE_SIGNATORY, unit, calls)
        if out is not None:
            out.write_bytes(published)
        # The server schedules the tender's run at the opening time; the station only reports it.
        run = {"id": told["id"], "scheduled_for": told["scheduled_for"]} if "id" in told else None
        problem = told.get("problem")
        info = {"tender_id": tender_id, "published": True, "announced_at": content.announced_at.isoformat(),
                "deadline": content.deadline.isoformat(), "opening_at": content.opening_at.isoformat(),
                "opening_seats": {"threshold": content.threshold, "seats": {k: list(v) for k, v in content.seats.items()}},
                "notice": str(out) if out else None,
                "scheduled": run, "schedule_problem": problem}
        if json_out:
            emit_json(info)
            return
        console.print(f"آگهی مناقصهٔ {tender_id} منتشر شد (امضای شما و سامانه وارسی شد).")
        if run is not None:
            console.print(f"اجرای مناقصه برای {format_jalali_datetime(content.opening_at)} زمان‌بندی شد: {run['id']}")
        elif problem is not None:
            console.print(f"[yellow]زمان‌بندی اجرای مناقصه انجام نشد ({problem}); با «eproc schedule-tender "
                          f"{tender_id}» روی سرور دوباره بکوشید.[/]")
        else:
            console.print("[yellow]سرور به Prefect وصل نیست (PREFECT_API_URL در محیط eproc serve)؛ اجرای مناقصه "
                          f"زمان‌بندی نشد؛ روی سرور «eproc schedule-tender {tender_id}» را اجرا کنید — the server has "
                          "no workflow engine: its run was not scheduled.[/]")

    run_command(go, json_out)


@app.command("notice", help="دریافت و وارسی آگهی منتشرشده — fetch and verify the published notice")
def notice(tender_id: str = typer.Argument(..., help="شناسهٔ مناقصه — tender id"),
           *, server: Server, ca: Path = typer.Option(None, "--ca", help=CA_HELP),
           out: Path = typer.Option(None, "--out", help="ذخیرهٔ آگهی — save the notice"),
           json_out: JsonOut = False) -> None:
    def go() -> None:
        from stations.client import Api
        from stations.verify import verify_notice

        with Api(server) as api:
            xml = api.get(f"/v1/tenders/{tender_id}/notice").content
            content = verify_notice(xml, _ca(api, ca))
        if out is not None:
            out.write_bytes(xml)
        info = {"tender_id": content.tender_id, "unit": content.unit, "title": content.title,
                "deadline": content.deadline.isoformat(), "opening_at": content.opening_at.isoformat(),
                "estimate_rial": content.estimate_rial, "wording": content.wording, "rules": content.rules,
                "opening_seats": {"threshold": content.threshold, "seats": {k: list(v) for k, v in content.seats.items()}}}
        if json_out:
            emit_json(info)
        else:
            console.print(f"{content.title}\n{content.text}\nمهلت: {format_jalali_datetime(content.deadline)}؛ "
                          f"بازگشایی: {format_jalali_datetime(content.opening_at)} (امضاها وارسی شد)")

    run_command(go, json_out)
