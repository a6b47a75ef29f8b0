"""`eproc bid seal` and `eproc bid submit`: the bidder's station (issue 11 part 4; R07, R08).

    eproc bid seal --tender D12-1400-017 --company 50752917036 --a a.json --b b.json --c c.json \\
        --token ceo-b1 --server https://eproc.example --out bid.sealed
    eproc bid submit bid.sealed --server https://eproc.example --token ceo-b1 --receipt receipt.xml

`seal` takes the encryption material only from the tender's signed notice (`--notice FILE`, or
fetched with `--server` from GET /v1/tenders/{id}/notice), after verifying its signatures and their
chain to the CA (`--ca FILE`, or GET /v1/trust/ca): never from the engine's database. Plaintext never
leaves the bidder's machine; the manifest of envelope hashes is signed on the company signatory's
token. `submit` streams the sealed file to the API, where the deadline is judged at the engine's
receipt time, and verifies the engine's signed receipt (its signature, and that it states the
hashes of the envelopes sent) before saving it. Seal shortly before submitting: the manifest's
signing time must lie within the policy's skew (5 minutes by default) of the engine's receipt.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from domain.limits import ContentLimits, check_size
from domain.persian import format_jalali_datetime, normalize
from domain.reasons import DomainError, Reason
from eproc.context import app_context
from eproc.errors import run_command
from eproc.output import console, emit_json

app = typer.Typer(help="پیشنهاد مهروموم‌شده — sealed bids", no_args_is_help=True)

SERVER_HELP = "نشانی سامانهٔ معاملات — the transactions system's URL (eproc serve)"
CA_HELP = "گواهی مرجع (PEM)؛ بی آن از GET /v1/trust/ca — the CA certificate; default: fetched from the server"


def _read_envelope(letter: str, path: Path | None, limits: ContentLimits) -> bytes | None:
    """The canonical content of one envelope file, refused (INVALID_INPUT, Persian) when it is larger
    than the policy allows, is not strict JSON (a key given twice included) or breaks the policy's caps
    on amounts, the coefficient and attachments (R08)."""
    from sealing.content import LETTER_FA, decode_envelope, encode_envelope

    if path is None:
        return None
    try:
        check_size(path.stat().st_size, limits.max_bid_bytes, f"پروندهٔ پاکت «{LETTER_FA[letter]}»")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DomainError(Reason.INVALID_INPUT, f"پروندهٔ پاکت {letter} پیدا نشد: {path}") from None
    return encode_envelope(decode_envelope(letter, raw, limits))  # validated and canonical before sealing


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DomainError(Reason.INVALID_INPUT, f"{what} خوانده نشد: {path} ({exc.strerror})") from None


def _notice_and_ca(tender_id: str, notice: Path | None, server: str | None, ca: Path | None) -> tuple[bytes, bytes]:
    """The signed notice and the CA certificate, from files or from the server's public endpoints."""
    from stations.bidder import notice_and_ca
    from stations.client import Api

    if notice is None and server is None:
        raise DomainError(Reason.INVALID_INPUT, "آگهی امضاشده لازم است: --notice پرونده یا --server نشانی")
    if ca is None and server is None:
        raise DomainError(Reason.INVALID_INPUT, "گواهی مرجع لازم است: --ca پرونده یا --server نشانی")
    xml = _read(notice, "آگهی") if notice is not None else b""
    pem = _read(ca, "گواهی مرجع") if ca is not None else b""
    if server is not None and (not xml or not pem):
        with Api(server) as api:
            fetched = notice_and_ca(api, tender_id)
        xml, pem = xml or fetched[0], pem or fetched[1]
    return xml, pem


@app.command("seal", help="مهروموم پاکت‌ها با کلید عمومی آگهی امضاشده و امضا با توکن پیشنهاددهنده — seal "
                          "envelopes to the signed notice's opening key and sign with the bidder's token")
def seal(tender: str = typer.Option(..., "--tender", help="شناسهٔ مناقصه — tender id"),
         company: str = typer.Option(..., "--company", help="شناسهٔ ملی شرکت — company national ID"),
         bidder: str = typer.Option(None, "--bidder", help="شناسهٔ پیشنهاددهنده؛ پیش‌فرض شناسهٔ ملی شرکت — bidder ref"),
         a: Path = typer.Option(None, "--a", help="پاکت الف (JSON) — envelope A"),
         b: Path = typer.Option(None, "--b", help="پاکت ب (JSON)"), c: Path = typer.Option(None, "--c", help="پاکت ج (JSON)"),
         token: str = typer.Option(..., "--token", help="برچسب توکن امضاکنندهٔ شرکت — signatory's token"),
         key_label: str = typer.Option("sign", "--key-label"),
         notice: Path = typer.Option(None, "--notice", help="آگهی امضاشده (XML) — the signed notice"),
         server: str = typer.Option(None, "--server", help=SERVER_HELP + "; آگهی و گواهی مرجع از آن"),
         ca: Path = typer.Option(None, "--ca", help=CA_HELP),
         out: Path = typer.Option(..., "--out", help="پروندهٔ خروجی — output file"),
         json_out: bool = typer.Option(False, "--json")) -> None:
    def go() -> None:
        from domain.identity import validate_company_id
        from services.tender.files import pack_bid_file
        from stations.bidder import seal_from_notice
        from stations.client import token_signer

        ctx = app_context()
        cid = validate_company_id(company)
        tender_id, bidder_id = normalize(tender), normalize(bidder or cid)
        limits = ctx.policy.content_limits()
        envelopes = {k: v for k, v in (("A", _read_envelope("A", a, limits)), ("B", _read_envelope("B", b, limits)),
                                        ("C", _read_envelope("C", c, limits))) if v is not None}
        xml, pem = _notice_and_ca(tender_id, notice, server, ca)
        signer = token_signer(token, key_label)
        bid_file, content = seal_from_notice(tender_id, bidder_id, cid, envelopes, xml, pem, signer, ctx.clock)
        sealed = bid_file.sealed
        check_size(len(sealed.to_bytes()), limits.max_bid_bytes, "پیشنهاد")
        if ctx.clock.now() >= content.deadline and not json_out:
            console.print(f"[yellow]مهلت ارسال ({format_jalali_datetime(content.deadline)}) گذشته است؛ سامانه پیشنهاد "
                          "را نمی‌پذیرد.[/]")
        out.write_bytes(pack_bid_file(bid_file))
        info = {"out": str(out), "tender": tender_id, "bidder": bidder_id, "company": cid, "hashes": sealed.hashes(),
                "deadline": content.deadline.isoformat()}
        if json_out:
            emit_json(info)
        else:
            console.print(f"پیشنهاد مهروموم شد: {out}  (چکیده‌ها: {sealed.hashes()})")

    run_command(go, json_out)


@app.command("submit", help="ارسال پیشنهاد مهروموم‌شده به سامانه و وارسی رسید امضاشده — submit a sealed bid and "
                            "verify the signed receipt")
def submit(path: Path = typer.Argument(..., help="خروجی eproc bid seal"),
           server: str = typer.Option(..., "--server", help=SERVER_HELP),
           token: str = typer.Option(..., "--token", help="برچسب توکن امضاکنندهٔ شرکت — signatory's token"),
           key_label: str = typer.Option("sign", "--key-label"),
           ca: Path | None = typer.Option(None, "--ca", help=CA_HELP),
           receipt: Path | None = typer.Option(None, "--receipt", help="محل ذخیرهٔ رسید؛ پیش‌فرض کنار پرونده — where to "
                                                                       "save the receipt"),
           json_out: bool = typer.Option(False, "--json")) -> None:
    def go() -> None:
        from services.tender.files import read_bid_file
        from stations.bidder import login_as_signatory, upload
        from stations.client import Station
        from stations.verify import verify_receipt

        try:
            with path.open("rb") as f:
                bid = read_bid_file(f)
        except OSError as exc:
            raise DomainError(Reason.INVALID_INPUT, f"پروندهٔ پیشنهاد خوانده نشد: {path} ({exc.strerror})") from None
        with Station(server, token, key_label) as st:
            login_as_signatory(st, bid.company_id)  # refused login: sent anyway, refused on the record
            try:
                answer = upload(st, bid, path)
            except DomainError as exc:
                if exc.reason in (Reason.NOT_AUTHENTICATED, Reason.STORE_UNREACHABLE, Reason.REQUEST_TOO_LARGE):
                    raise
                _refused(exc, json_out)
                return
            pem = ca.read_bytes() if ca is not None else st.ca_pem()
        verify_receipt(answer.xml, pem, bid.tender_id, bid.bidder_id, bid.sealed.hashes())
        where = receipt or path.with_name(path.name + ".receipt.xml")
        where.write_bytes(answer.xml)
        seq = answer.seq
        info: dict[str, Any] = {"accepted": True, "reason": None, "seq": seq, "receipt": str(where)}
        if json_out:
            emit_json(info)
        else:
            console.print(f"پیشنهاد پذیرفته شد (نسخهٔ {seq})؛ رسید امضاشدهٔ سامانه وارسی و در {where} ذخیره شد.")

    run_command(go, json_out)


def _refused(exc: DomainError, json_out: bool) -> None:
    """The engine refused the bid: say which reason, exit status 2 (the refusal is audited there)."""
    if json_out:
        emit_json({"accepted": False, "reason": exc.reason.value, "seq": None, "detail": exc.detail or None})
    else:
        console.print(f"[red]پیشنهاد پذیرفته نشد ({exc.reason.value}):[/] {exc.message_fa}")
    raise typer.Exit(2)

