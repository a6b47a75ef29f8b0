"""`eproc minutes show|sign`: a commission member reads and signs the Article 13 minutes (or the
chair the Article 18 notification) at their own station, on their own token, in the session (issue 12
part 3; R06, R10, R11).

    eproc minutes show --tender D12-1400-017 --kind article13 --server https://eproc.example \\
        --token finance-12 --unit district-12 --role finance
    eproc minutes sign --tender D12-1400-017 --kind article13 --server https://eproc.example \\
        --token finance-12 --unit district-12 --role finance --sha256 <the hash `show` printed>

`show` prints the Persian summary the station makes from the bytes it fetched (award and prices, or
the notification's terms; who must sign and who has) and the SHA-256 of those exact bytes (and of
the signed body, which stays the same while other members sign). `sign` fetches the document again,
refuses when `--sha256` is given and the bytes fetched do not have it, signs them on the token and
sends the signature; the engine verifies it at receipt and the document is final when every required
member has signed. Both are thin wrappers over stations.minutes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from eproc.commands.station_options import JsonOut, KeyLabel, Server, SessionRole, Token, Unit, at_station
from eproc.errors import run_command
from eproc.output import console, emit_json

app = typer.Typer(help="صورتجلسهٔ ماده ۱۳ و ابلاغ ماده ۱۸: خواندن و امضا در جایگاه عضو کمیسیون با توکن خود — read and "
                       "sign the Article 13 minutes and the Article 18 notification at the member's own station",
                  no_args_is_help=True)

TenderOpt = Annotated[str, typer.Option("--tender", help="شناسهٔ مناقصه — tender id")]
KindOpt = Annotated[str, typer.Option("--kind", help="article13 (صورتجلسه)، article18 یا article18-2 (ابلاغ) — the "
                                                     "document")]


def _hashes(sha256: str, body_sha256: str) -> None:
    console.print(f"چکیدهٔ SHA-256 سند (همین بایت‌ها): {sha256}", markup=False)
    console.print(f"چکیدهٔ SHA-256 متن امضاشونده (بی امضاها): {body_sha256}", markup=False)


@app.command("show", help="خلاصهٔ فارسی سند و چکیدهٔ بایت‌های آن — the document's Persian summary and the hash of "
                          "its exact bytes")
def show(*, tender: TenderOpt, kind: KindOpt = "article13", server: Server, token: Token, unit: Unit,
         role: SessionRole, out: Path = typer.Option(None, "--out", help="ذخیرهٔ بایت‌های سند — save the bytes"),
         key_label: KeyLabel = "sign", json_out: JsonOut = False) -> None:
    def go() -> None:
        from stations.minutes import show_minutes

        shown = at_station(server, token, key_label, role, unit, lambda st: show_minutes(st, tender, kind))
        if out is not None:
            out.write_bytes(shown.xml)
        if json_out:
            emit_json({**shown.to_dict(), "saved_to": str(out) if out else None})
            return
        console.print(shown.summary_fa, markup=False)
        _hashes(shown.sha256, shown.body_sha256)

    run_command(go, json_out)


@app.command("sign", help="امضای سند با توکن خود در جلسه و فرستادن امضا — sign the document on your token in the "
                          "session and send the signature")
def sign(*, tender: TenderOpt, kind: KindOpt = "article13", server: Server, token: Token, unit: Unit,
         role: SessionRole,
         sha256: str = typer.Option(None, "--sha256", help="چکیده‌ای که «show» نشان داد؛ اگر سند دریافتی آن را نداشته "
                                                          "باشد امضا نمی‌شود — the hash `show` printed; nothing is "
                                                          "signed unless the fetched document has it"),
         key_label: KeyLabel = "sign", json_out: JsonOut = False) -> None:
    def go() -> None:
        from stations.minutes import sign_minutes

        answer: dict[str, Any] = at_station(server, token, key_label, role, unit,
                                            lambda st: sign_minutes(st, tender, kind, sha256))
        if json_out:
            emit_json(answer)
            return
        if not answer["sent"]:
            console.print("چیزی برای امضا نبود: " + ("سند نهایی شده است." if answer["final"]
                                                      else "امضای شما پیش‌تر ثبت شده است."), markup=False)
        elif answer["final"]:
            console.print("امضای شما ثبت شد و سند با همهٔ امضاهای لازم نهایی شد.", markup=False)
        else:
            console.print("امضای شما ثبت شد؛ سند با امضای دیگر اعضای لازم نهایی می‌شود.", markup=False)
        console.print(answer["summary_fa"], markup=False)
        _hashes(answer["sha256"], answer["body_sha256"])

    run_command(go, json_out)
