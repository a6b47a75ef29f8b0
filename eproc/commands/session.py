"""`eproc session join|show`: a commission member at their own station during a sitting (issue 12; R08).

    eproc session join --tender D12-1400-017 --session opening --server https://eproc.example \\
        --token member-m3 --unit district-12 --role technical

`join` logs in on the member's token as their role in the tender's unit, fetches the member's parts
of every bid's key and the sitting's key the engine signed, checks that key with the CA certificate
(`--ca FILE`, or GET /v1/trust/ca), unwraps the parts on the member's own token and releases them to
that sitting only, encrypted to its key and signed on the token. `show` prints who has released.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from domain.persian import persian_digits
from eproc.commands.station_options import JsonOut, KeyLabel, Server, SessionRole, Token, Unit, at_station
from eproc.errors import run_command
from eproc.output import console, emit_json

app = typer.Typer(help="جلسهٔ کمیسیون از ایستگاه عضو — the commission's sitting from a member's station",
                  no_args_is_help=True)

TenderId = Annotated[str, typer.Option("--tender", help="شناسهٔ مناقصه — tender id")]
Sitting = Annotated[str, typer.Option("--session", help="opening | price_opening")]
CA_HELP = "گواهی مرجع (PEM)؛ بی آن از GET /v1/trust/ca — the CA certificate; default: fetched from the server"


@app.command("join", help="آزادسازی سهم‌های عضو در جلسه با توکن خود — release the member's parts to the sitting, "
                          "on the member's own token")
def join(tender: TenderId, server: Server, token: Token, unit: Unit, role: SessionRole, session: Sitting = "opening",
         ca: Path = typer.Option(None, "--ca", help=CA_HELP), key_label: KeyLabel = "sign",
         json_out: JsonOut = False) -> None:
    def go() -> None:
        from domain.reasons import DomainError, Reason
        from stations.commission import join as join_sitting

        try:
            pem = ca.read_bytes() if ca is not None else None
        except OSError as exc:
            raise DomainError(Reason.INVALID_INPUT, f"گواهی مرجع خوانده نشد: {ca} ({exc.strerror})") from None
        done = at_station(server, token, key_label, role, unit,
                          lambda st: join_sitting(st, tender, session, pem or st.ca_pem()))
        info = {"tender_id": tender, "session": session, "member_id": done.member_id, "parts": done.parts,
                "sha256": done.sha256}
        if json_out:
            emit_json(info)
        else:
            console.print(f"سهم‌های عضو {done.member_id} ({persian_digits(done.parts)} پیشنهاد) برای جلسهٔ {session} "
                          f"مناقصهٔ {tender} آزاد شد؛ چکیدهٔ درخواست {done.sha256[:16]}…")

    run_command(go, json_out)


@app.command("show", help="وضعیت جلسه: چه کسانی سهم خود را آزاد کرده‌اند — who has released their parts")
def show(tender: TenderId, server: Server, session: Sitting = "opening", json_out: JsonOut = False) -> None:
    def go() -> None:
        from stations.client import Api
        from stations.commission import sitting_path

        with Api(server) as api:
            data = api.get(sitting_path(tender, session)).json()
        if json_out:
            emit_json(data)
            return
        state = "باز" if data["open"] else "بسته"
        console.print(f"جلسهٔ {session} مناقصهٔ {tender}: {state}؛ آزادکرده: {'، '.join(data['released']) or '—'}؛ "
                      f"نصاب: {persian_digits(data['threshold'])} صندلی رأی‌دهنده و نمایندهٔ حراست")

    run_command(go, json_out)
