"""`eproc pricelist import|approve|show` and `eproc formula approve|show`: price lists and formulas
approved by token (R09), from the operator's and the deputy's own stations over the API.

    eproc pricelist import prices.xlsx --list-id technical-civil/1401 --version 1 --domain civil \\
        --server https://eproc.example --token officer-12 --unit district-12
    eproc pricelist approve --list-id technical-civil/1401 --version 1 --technical-council-ref TC-1401-07 \\
        --server https://eproc.example --token deputy-12 --unit district-12
    eproc formula approve --formula-id estimate --version 1 --technical-council-ref TC-1399-118 ...

The deputy's station fetches the imported items, recomputes their digest itself and signs an approval
naming that digest, so the signature covers exactly the prices shown.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from domain.persian import format_rial, persian_digits
from eproc.commands.station_options import (
    DeputyRole,
    JsonOut,
    KeyLabel,
    OperatorRole,
    Server,
    SessionRole,
    Token,
    Unit,
    at_station,
)
from eproc.errors import run_command
from eproc.output import console, emit_json

if TYPE_CHECKING:
    from stations.client import Station

pricelist_app = typer.Typer(help="فهرست بها با تصویب توکنی (R09) — price lists approved by token", no_args_is_help=True)
formula_app = typer.Typer(help="فرمول‌ها با تصویب توکنی (R09) — formulas approved by token", no_args_is_help=True)

ListId = Annotated[str, typer.Option("--list-id")]
Version = Annotated[int, typer.Option("--version", min=1)]
CouncilRef = Annotated[str, typer.Option("--technical-council-ref", help="شمارهٔ مصوبهٔ شورای فنی")]


def register(app: typer.Typer) -> None:
    app.add_typer(pricelist_app, name="pricelist")
    app.add_typer(formula_app, name="formula")


def _print_status(data: dict, json_out: bool) -> None:
    if json_out:
        emit_json(data)
        return
    approval = data.get("approval")
    state = "مصوب" if approval else "در انتظار تصویب معاون"
    console.print(f"فهرست بهای {data['list_id']} نسخهٔ {persian_digits(data['version'])} ({data['domain']}): "
                  f"{persian_digits(len(data['items']))} ردیف؛ {state}")
    if approval:
        console.print(f"تصویب: {approval['name'] or approval['national_id']} ({approval['role']}@{approval['unit']})، "
                      f"مصوبهٔ شورای فنی {approval['technical_council_ref']}")


@pricelist_app.command("import", help="ورود نسخهٔ فهرست بها از CSV یا xlsx با امضای توکن کارشناس — import a "
                                      "price-list version from CSV or xlsx, signed on the operator's token")
def import_(file: Path = typer.Argument(..., help="پروندهٔ CSV یا xlsx (کد ردیف، واحد، بهای واحد به ریال)"),
            list_id: str = typer.Option(..., "--list-id", help="شناسهٔ فهرست بها، مانند technical-civil/1401"),
            version: int = typer.Option(..., "--version", min=1, help="نسخه — version"),
            domain: str = typer.Option(..., "--domain", help="urban | green | civil"),
            *, server: Server, token: Token, unit: Unit, role: OperatorRole = None,
            key_label: KeyLabel = "sign", json_out: JsonOut = False) -> None:
    def go() -> None:
        from services.pricelists import OPERATOR_ROLE, read_price_file
        from stations.operator import import_price_list

        content = read_price_file(file, list_id, version, domain)  # refused here before anything is sent
        data = at_station(server, token, key_label, role or OPERATOR_ROLE, unit,
                          lambda st: import_price_list(st, content))
        _print_status(data, json_out)

    run_command(go, json_out)


@pricelist_app.command("show", help="نمایش یک نسخهٔ فهرست بها و تصویب آن — show a price-list version")
def show(list_id: ListId, version: Version, server: Server, token: Token, unit: Unit, role: SessionRole,
         key_label: KeyLabel = "sign", json_out: JsonOut = False) -> None:
    from stations.operator import price_list_path

    run_command(lambda: _print_status(at_station(server, token, key_label, role, unit,
                                                 lambda st: st.get(price_list_path(list_id, version)).json()),
                                      json_out), json_out)


@pricelist_app.command("approve", help="تصویب نسخهٔ فهرست بها با امضای توکن معاون — approve a price-list "
                                       "version on the deputy's token")
def approve(list_id: ListId, version: Version, council_ref: CouncilRef, server: Server, token: Token, unit: Unit,
            role: DeputyRole = None, key_label: KeyLabel = "sign", json_out: JsonOut = False) -> None:
    def go() -> None:
        from domain.documents.pricelist import PriceItem
        from services.pricelists import APPROVER_ROLE
        from stations.operator import approve_price_list

        def show(items: list[PriceItem], digest: str) -> None:
            if not json_out:
                total = sum(i.unit_price for i in items)
                console.print(f"تصویب {persian_digits(len(items))} ردیف (جمع بهای واحدها {format_rial(total, True)} "
                              f"ریال)، چکیده {digest[:16]}…")

        def calls(st: Station) -> dict:
            return approve_price_list(st, list_id, version, council_ref, show)

        _print_status(at_station(server, token, key_label, role or APPROVER_ROLE, unit, calls), json_out)

    run_command(go, json_out)


def _print_formula(data: dict, json_out: bool) -> None:
    if json_out:
        emit_json(data)
        return
    approval = data.get("approval")
    console.print(f"فرمول {data['formula_id']} نسخهٔ {persian_digits(data['version'])}: {data['expression']}")
    console.print(f"تصویب: {approval['name'] or approval['national_id']}، مصوبهٔ شورای فنی "
                  f"{approval['technical_council_ref']}" if approval else "تصویب نشده است")


@formula_app.command("approve", help="تصویب نسخهٔ فرمول سیاست با امضای توکن معاون — approve a formula version "
                                     "of the policy on the deputy's token")
def approve_formula(formula_id: Annotated[str, typer.Option("--formula-id", help="estimate, abnormally-low, guarantee, ...")],
                    version: Version, council_ref: CouncilRef, server: Server, token: Token, unit: Unit,
                    role: DeputyRole = None, key_label: KeyLabel = "sign", json_out: JsonOut = False) -> None:
    def go() -> None:
        from services.pricelists import APPROVER_ROLE
        from stations.operator import approve_formula as approve_on_station

        def show(expression: str) -> None:
            if not json_out:
                console.print(f"تصویب فرمول {formula_id} نسخهٔ {persian_digits(version)}: {expression}")

        def calls(st: Station) -> dict:
            return approve_on_station(st, formula_id, version, council_ref, show)

        _print_formula(at_station(server, token, key_label, role or APPROVER_ROLE, unit, calls), json_out)

    run_command(go, json_out)


@formula_app.command("show", help="نمایش یک نسخهٔ فرمول و تصویب آن — show a formula version")
def show_formula(formula_id: Annotated[str, typer.Option("--formula-id")], version: Version, server: Server,
                 token: Token, unit: Unit, role: SessionRole, key_label: KeyLabel = "sign",
                 json_out: JsonOut = False) -> None:
    from stations.operator import formula_path

    run_command(lambda: _print_formula(at_station(server, token, key_label, role, unit,
                                                  lambda st: st.get(formula_path(formula_id, version)).json()),
                                       json_out), json_out)
