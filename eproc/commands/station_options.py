"""The options of the commands run at a person's station (`eproc pricelist|formula|tender ...`),
declared once as typing.Annotated aliases, and `at_station`: open the station on the person's token,
log in as `role@unit`, make the calls.

    def show(server: Server, token: Token, unit: Unit, role: SessionRole,
             key_label: KeyLabel = "sign", json_out: JsonOut = False) -> None: ...
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

if TYPE_CHECKING:
    from stations.client import Station

T = TypeVar("T")

SERVER_HELP = "نشانی سامانهٔ معاملات — the transactions system's URL (eproc serve)"
TOKEN_HELP = "برچسب توکن شخص — the person's token label"
UNIT_HELP = "واحدی که سمت در آن است — the unit of the role the session is opened for"

Server = Annotated[str, typer.Option("--server", help=SERVER_HELP)]
Token = Annotated[str, typer.Option("--token", help=TOKEN_HELP)]
Unit = Annotated[str, typer.Option("--unit", help=UNIT_HELP)]
SessionRole = Annotated[str, typer.Option("--role", help="سمت نشست — the session's role")]
OperatorRole = Annotated[str | None, typer.Option("--role", help="سمت؛ پیش‌فرض contracts_officer — role")]
DeputyRole = Annotated[str | None, typer.Option("--role", help="سمت؛ پیش‌فرض deputy — role")]
KeyLabel = Annotated[str, typer.Option("--key-label")]
JsonOut = Annotated[bool, typer.Option("--json")]


def at_station(server: str, token: str, key_label: str, role: str, unit: str, calls: Callable[[Station], T]) -> T:
    """`calls(station)` on the station of token `token` (key `key_label`) at `server`, logged in as
    `role@unit`; the station is closed after.

    Raises: what Station and `calls` raise (NOT_AUTHENTICATED, NOT_AUTHORISED, TOKEN_*,
    STORE_UNREACHABLE, the API's refusals)."""
    from stations.client import Station

    with Station(server, token, key_label) as st:
        st.login(role, unit)
        return calls(st)
