"""`eproc bid seal` (the bidder's side: nothing readable leaves the bidder's machine) and
`eproc bid submit` (the engine's side: signature and deadline checks, a signed receipt)."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import typer

from domain.limits import ContentLimits, check_size
from domain.persian import normalize
from domain.reasons import DomainError, Reason
from eproc.context import app_context
from eproc.errors import run_command
from eproc.output import console, emit_json

app = typer.Typer(help="پیشنهاد مهروموم‌شده — sealed bids", no_args_is_help=True)


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


@app.command("seal", help="مهروموم پاکت‌ها با کلید بازگشایی مناقصه و امضا با توکن پیشنهاددهنده — "
                          "seal envelopes to the tender's opening key and sign with the bidder's token")
def seal(tender: str = typer.Option(..., "--tender"), bidder: str = typer.Option(..., "--bidder"),
         company: str = typer.Option(..., "--company", help="شناسهٔ ملی شرکت — company national ID"),
         a: Path = typer.Option(None, "--a", help="پاکت الف (JSON) — envelope A"),
         b: Path = typer.Option(None, "--b", help="پاکت ب (JSON)"), c: Path = typer.Option(None, "--c", help="پاکت ج (JSON)"),
         token: str = typer.Option(..., "--token", help="برچسب توکن امضاکنندهٔ شرکت — signatory's token"),
         key_label: str = typer.Option("sign", "--key-label"),
         opening_key: str = typer.Option(None, "--opening-key", help="کلید عمومی بازگشایی از آگهی — from the notice"),
         out: Path = typer.Option(..., "--out", help="پروندهٔ خروجی — output file")) -> None:
    def go() -> None:
        from cryptography import x509
        from lxml import etree

        from domain.identity import validate_company_id
        from sealing.envelopes import manifest_xml, seal_bid
        from services.signers import COMPANY_SIGNATORY
        from signing.token import Token
        from signing.verify import make_signer_ref
        from signing.xmldsig import sign_document

        ctx = app_context()
        cid = validate_company_id(company)
        tender_id, bidder_id = normalize(tender), normalize(bidder)
        limits = ctx.policy.content_limits()
        envelopes = {k: v for k, v in (("A", _read_envelope("A", a, limits)), ("B", _read_envelope("B", b, limits)),
                                        ("C", _read_envelope("C", c, limits))) if v is not None}
        key = opening_key
        if key is None:
            from services.tender import load

            key = load(_deps(), tender_id).plan.public_key_b64
        sealed = seal_bid(tender_id, bidder_id, envelopes, key)
        check_size(len(sealed.to_bytes()), limits.max_bid_bytes, "پیشنهاد")
        manifest = manifest_xml(sealed, ctx.clock.now())
        with Token(token) as tok:
            der = tok.certificate(key_label)
            if der is None:
                raise DomainError(Reason.TOKEN_NOT_FOUND, f"گواهی روی توکن «{token}» نیست")
            signed = sign_document(manifest, tok, key_label, x509.load_der_x509_certificate(der), ctx.clock,
                                   make_signer_ref(COMPANY_SIGNATORY, cid))
        out.write_text(json.dumps({"tender": tender_id, "bidder": bidder_id, "company": cid,
                                   "sealed": base64.b64encode(sealed.to_bytes()).decode(),
                                   "manifest": base64.b64encode(etree.tostring(signed)).decode()}), "utf-8")
        console.print(f"پیشنهاد مهروموم شد: {out}  (چکیده‌ها: {sealed.hashes()})")

    run_command(go)


def _deps():
    from eproc import wiring

    return wiring.production()


@app.command("submit", help="ارسال پیشنهاد مهروموم‌شده و دریافت رسید امضاشده — submit and get a signed receipt")
def submit(path: Path = typer.Argument(..., help="خروجی eproc bid seal"),
           receipt: Path = typer.Option(None, "--receipt", help="محل ذخیرهٔ رسید — where to save the receipt"),
           json_out: bool = typer.Option(False, "--json")) -> None:
    def go() -> None:
        from domain.identity import validate_company_id
        from sealing.envelopes import SealedBid
        from services.tender import submit_bid

        try:
            data = json.loads(path.read_text("utf-8"))
            sealed = SealedBid.from_bytes(base64.b64decode(data["sealed"]))
            manifest = base64.b64decode(data["manifest"])
            tender_id, bidder_id = normalize(str(data["tender"])), normalize(str(data["bidder"]))
        except (OSError, ValueError, KeyError) as exc:
            raise DomainError(Reason.INVALID_INPUT, f"پروندهٔ پیشنهاد نامعتبر: {exc}") from None
        result = submit_bid(_deps(), tender_id, bidder_id, validate_company_id(data["company"]), sealed, manifest)
        if result.accepted and receipt is not None:
            receipt.write_bytes(result.receipt_xml)
        info = {"accepted": result.accepted, "reason": result.reason.value if result.reason else None,
                "seq": result.seq}
        if json_out:
            emit_json(info)
        elif result.accepted:
            console.print(f"پیشنهاد پذیرفته شد (نسخهٔ {result.seq}).")
        else:
            console.print(f"[red]پیشنهاد پذیرفته نشد ({result.reason.value}):[/] {result.reason.message_fa}")
        if not result.accepted:
            raise typer.Exit(2)

    run_command(go, json_out)
