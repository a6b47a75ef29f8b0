"""`eproc auction`: the online auction (حراج) from a person's station (issue 14 part 1).

    eproc auction show D5-1400-031 --server https://eproc.example
    eproc auction guarantee D5-1400-031 --bidder b1 --company 11161012291 --amount 250000000 \\
        --valid-until 1400/08/30 --token ceo-b1 --server https://eproc.example
    eproc auction offer D5-1400-031 --bidder b1 --company 11161012291 --amount 5350000000 \\
        --token ceo-b1 --server https://eproc.example

The guarantee and each offer are signed on the company signatory's own token and judged at the
engine's receipt time; the engine's signed receipt is verified with the CA certificate (`--ca FILE`,
or GET /v1/trust/ca) before it is shown. `show` gives the best price, the least next offer and the
close (extensions included), never who offered.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from domain.persian import format_jalali_datetime, format_rial, parse_amount_rial, parse_jalali_date
from domain.reasons import DomainError, Reason
from eproc.commands.station_options import JsonOut, KeyLabel, Server, Token, at_station
from eproc.errors import run_command
from eproc.output import console, emit_json

app = typer.Typer(help="حراج برخط — online auctions", no_args_is_help=True)

Bidder = Annotated[str, typer.Option("--bidder", help="شناسهٔ پیشنهاددهنده در حراج — the bidder's reference")]
Company = Annotated[str, typer.Option("--company", help="شناسهٔ ملی شرکت — the company's national ID")]
Amount = Annotated[str, typer.Option("--amount", help="مبلغ (ریال) — amount in rials")]
Ca = Annotated[Path | None, typer.Option("--ca", help="گواهی مرجع (PEM)؛ بی آن از GET /v1/trust/ca — the CA certificate")]


def _ca(station: Any, ca: Path | None) -> bytes:
    if ca is None:
        return bytes(station.ca_pem())
    try:
        return ca.read_bytes()
    except OSError as exc:
        raise DomainError(Reason.INVALID_INPUT, f"گواهی مرجع خوانده نشد: {ca} ({exc.strerror})") from None


def _receipt(facts: Any) -> dict[str, Any]:
    return {"kind": facts.kind, "seq": facts.seq, "tender_id": facts.tender_id, "bidder": facts.bidder_id,
            "amount_rial": facts.amount_rial, "received_at": facts.received_at.isoformat(),
            "closes_at": facts.closes_at.isoformat() if facts.closes_at else None}


@app.command("show", help="بهترین قیمت و پایان حراج — the best price and the close (never who offered)")
def show(tender_id: str, server: Server, json_out: JsonOut = False) -> None:
    def go() -> None:
        from stations.auction import show as show_auction
        from stations.client import Api

        with Api(server) as api:
            info = show_auction(api, tender_id)
        if json_out:
            emit_json(info)
            return
        best = format_rial(info["best_rial"], True) if info["best_rial"] is not None else "—"
        console.print(f"حراج {tender_id}: {info['status']}؛ بهترین قیمت {best} ریال؛ کمترین پیشنهاد بعدی "
                      f"{format_rial(info['next_minimum_rial'], True)} ریال؛ پایان {info['closes_at_jalali']} "
                      f"({info['extensions']} تمدید)")

    run_command(go, json_out)


@app.command("guarantee", help="سپردن تضمین شرکت در حراج — lodge the bid guarantee (signed on your token)")
def guarantee(tender_id: str, bidder: Bidder, company: Company, amount: Amount,
              valid_until: Annotated[str, typer.Option("--valid-until", help="اعتبار تا (تاریخ شمسی) — valid until")],
              server: Server, token: Token, key_label: KeyLabel = "sign", ca: Ca = None,
              json_out: JsonOut = False) -> None:
    def go() -> None:
        from services.signers import COMPANY_SIGNATORY
        from stations.auction import lodge_guarantee

        rial, until = parse_amount_rial(amount, "مبلغ تضمین"), parse_jalali_date(valid_until)
        facts = at_station(server, token, key_label, COMPANY_SIGNATORY, company, lambda st: lodge_guarantee(
            st, tender_id, bidder, company, rial, until, _ca(st, ca)))
        if json_out:
            emit_json(_receipt(facts))
        else:
            console.print(f"تضمین {format_rial(rial, True)} ریالی پذیرفته شد (رسید شمارهٔ {facts.seq}، امضای سامانه وارسی شد).")

    run_command(go, json_out)


@app.command("offer", help="پیشنهاد قیمت در حراج — make an offer (signed on your token)")
def offer(tender_id: str, bidder: Bidder, company: Company, amount: Amount, server: Server, token: Token,
          key_label: KeyLabel = "sign", ca: Ca = None, json_out: JsonOut = False) -> None:
    def go() -> None:
        from services.signers import COMPANY_SIGNATORY
        from stations.auction import offer as make_offer

        rial = parse_amount_rial(amount, "مبلغ پیشنهاد")
        facts = at_station(server, token, key_label, COMPANY_SIGNATORY, company,
                           lambda st: make_offer(st, tender_id, bidder, company, rial, _ca(st, ca)))
        if json_out:
            emit_json(_receipt(facts))
        else:
            close = format_jalali_datetime(facts.closes_at) if facts.closes_at else "—"
            console.print(f"پیشنهاد {format_rial(rial, True)} ریالی پذیرفته شد (رسید شمارهٔ {facts.seq})؛ پایان حراج: {close}")

    run_command(go, json_out)
