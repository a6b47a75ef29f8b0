"""`eproc ca`: the municipal CA for development and pilots (production uses the national CA)."""
from __future__ import annotations

from pathlib import Path

import typer

from domain.identity import validate_national_id
from domain.persian import format_jalali_date, parse_int
from domain.reasons import DomainError, Reason
from eproc.context import AppContext, app_context
from eproc.errors import run_command
from eproc.output import console, emit_json

app = typer.Typer(help="مرجع صدور گواهی آزمایشی — the municipal CA for development and pilots",
                  no_args_is_help=True)


def _ca(ctx: AppContext):
    from services.certificate_registry import SqlCertificateRegistry
    from signing.ca import MunicipalCA

    ctx.migrate()
    return MunicipalCA.load(ca_dir(ctx), SqlCertificateRegistry(ctx.sessions))


def ca_dir(ctx: AppContext) -> Path:
    return ctx.settings.data_dir / "ca"


def _cert_json(cert) -> dict:
    from cryptography.x509.oid import NameOID

    return {"serial": f"{cert.serial_number:x}",
            "national_id": cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value,
            "not_before": format_jalali_date(cert.not_valid_before_utc),
            "not_after": format_jalali_date(cert.not_valid_after_utc)}


@app.command("init", help="ساخت مرجع صدور گواهی (کلید در نرم‌افزار، پروندهٔ 0600) — create the CA")
def init(name: str = typer.Option("مرجع صدور گواهی شهرداری تهران", "--name"),
         json_out: bool = typer.Option(False, "--json")) -> None:
    def go() -> None:
        from services.certificate_registry import SqlCertificateRegistry
        from signing.ca import MunicipalCA

        ctx = app_context()
        ctx.migrate()
        ca = MunicipalCA.init(ca_dir(ctx), name, ctx.clock, registry=SqlCertificateRegistry(ctx.sessions))
        info = {"ca_dir": str(ca.ca_dir), "certificate": str(ca.ca_cert_path)}
        emit_json(info) if json_out else console.print(f"مرجع صدور گواهی ساخته شد: {ca.ca_cert_path}")

    run_command(go, json_out)


@app.command("enroll", help="تولید کلید روی توکن شخص و صدور گواهی — key pair on the person's token + certificate")
def enroll(person: str = typer.Option(..., "--person", help="کد ملی شخص ثبت‌شده — registered person's national ID"),
           token: str = typer.Option(..., "--token", help="برچسب توکن — token label"),
           key_label: str = typer.Option("sign", "--key-label"),
           valid_days: str = typer.Option("730", "--valid-days"),
           json_out: bool = typer.Option(False, "--json")) -> None:
    def go() -> None:
        from signing.keytransport import choose_mechanism
        from signing.token import Token

        ctx = app_context()
        ca = _ca(ctx)
        nid = validate_national_id(person)
        with ctx.uow() as uow:
            who = uow.people.get(nid)
            if who is None:
                raise DomainError(Reason.INVALID_INPUT, f"شخص {nid} در سامانه ثبت نشده است (eproc registry add-person)")
            name = who.full_name
        with Token(token) as tok:
            cert = ca.enroll(nid, name, tok, key_label, parse_int(valid_days, "روز"), ctx.clock)
            mechanism = choose_mechanism(tok, key_label)
        with ctx.uow() as uow:
            row = uow.certificates.get(cert.serial_number)
            if row is None:  # the CA records every certificate it issues; a missing row is a broken store
                raise DomainError(Reason.NOT_FOUND,
                                  f"گواهی تازه‌صادرشده با شمارهٔ سریال {cert.serial_number:x} در سامانه یافت نشد")
            row.key_transport = mechanism
            uow.record(at=ctx.clock.now(), actor="ca", action="certificate.issued", entity="person", entity_id=nid,
                       payload={"serial": f"{cert.serial_number:x}", "token": token})
            uow.commit()
        info = _cert_json(cert) | {"token": token, "key_transport": mechanism}
        emit_json(info) if json_out else console.print(f"گواهی صادر شد: {info}")

    run_command(go, json_out)


@app.command("renew", help="تمدید گواهی برای همان کلید توکن — renew for the same token key")
def renew(serial: str = typer.Option(..., "--serial", help="شمارهٔ سریال (هگز) — serial (hex)"),
          token: str = typer.Option(..., "--token"), valid_days: str = typer.Option("730", "--valid-days"),
          json_out: bool = typer.Option(False, "--json")) -> None:
    def go() -> None:
        from signing.token import Token

        ctx = app_context()
        ca = _ca(ctx)
        with Token(token) as tok:
            cert = ca.renew(int(serial, 16), tok, parse_int(valid_days, "روز"), ctx.clock)
        with ctx.uow() as uow:
            uow.record(at=ctx.clock.now(), actor="ca", action="certificate.renewed", entity="certificate",
                       entity_id=serial, payload={"new_serial": f"{cert.serial_number:x}"})
            uow.commit()
        emit_json(_cert_json(cert)) if json_out else console.print(f"تمدید شد: {_cert_json(cert)}")

    run_command(go, json_out)


@app.command("revoke", help="ابطال گواهی (مثلاً با تغییر سمت) — revoke a certificate")
def revoke(serial: str = typer.Option(..., "--serial", help="شمارهٔ سریال (هگز)"),
           reason: str = typer.Option("affiliationChanged", "--reason",
                                      help="keyCompromise | affiliationChanged | superseded | cessationOfOperation"),
           json_out: bool = typer.Option(False, "--json")) -> None:
    def go() -> None:
        ctx = app_context()
        ca = _ca(ctx)
        try:
            number = int(serial, 16)
        except ValueError:
            raise DomainError(Reason.INVALID_INPUT, f"شمارهٔ سریال هگز نیست: «{serial}»") from None
        record = ca.revoke(number, reason, ctx.clock.now())
        ca.crl(ctx.clock)
        with ctx.uow() as uow:
            uow.record(at=ctx.clock.now(), actor="ca", action="certificate.revoked", entity="certificate",
                       entity_id=serial, payload={"reason": reason, "national_id": record.national_id})
            uow.commit()
        info = {"serial": serial, "revoked_at": format_jalali_date(record.revoked_at), "crl": str(ca.crl_path)}
        emit_json(info) if json_out else console.print(f"باطل شد: {info}")

    run_command(go, json_out)


@app.command("crl", help="صدور فهرست ابطال — sign and write the CRL")
def crl(json_out: bool = typer.Option(False, "--json")) -> None:
    def go() -> None:
        ctx = app_context()
        ca = _ca(ctx)
        ca.crl(ctx.clock)
        emit_json({"crl": str(ca.crl_path)}) if json_out else console.print(f"فهرست ابطال: {ca.crl_path}")

    run_command(go, json_out)
