"""`eproc support ...`: the support channel for districts and contractors at each person's station
(R26), and the contractor notifications an operator (re)sends from the store.

    eproc support open --subject "..." --text "..." --server URL --token T --role R --unit U
    eproc support list [--status open] --server URL --token T --role R --unit U
    eproc support show --id 12 --server URL --token T --role R --unit U
    eproc support reply --id 12 --text "..." [--close] --server URL --token T --role support --unit municipality
    eproc support contacts --company 11-digit-id [--mobile 09..] [--email a@b.ir]   (contractor registry)
    eproc support notify (--tender T | --contract TRACKING) [--json]      (idempotent: each message once)
    eproc support gaps [--json]                                           (notifications nobody received)

Station commands are thin wrappers over stations.support and reach the engine only over HTTP; the
last three write the engine's database and the registry like `eproc registry` does.
"""
from __future__ import annotations

from typing import Annotated, Any

import typer

from domain.persian import persian_digits
from domain.reasons import DomainError, Reason
from eproc.commands.station_options import JsonOut, KeyLabel, Server, SessionRole, Token, Unit, at_station
from eproc.errors import run_command
from eproc.output import console, emit_json, table

app = typer.Typer(help="پشتیبانی واحدها و پیمانکاران و پیام‌رسانی به پیمانکاران — support channel and contractor "
                       "notifications (R26)", no_args_is_help=True)

IdOpt = Annotated[int, typer.Option("--id", help="شمارهٔ درخواست — request id")]


def _print_request(view: dict[str, Any]) -> None:
    req = view["requester"]
    console.print(f"درخواست {persian_digits(view['id'])} — {view['subject']} — وضعیت: {view['status_fa']} — "
                  f"درخواست‌کننده: {req['national_id']} ({req['role']}@{req['unit']})", markup=False)
    for msg in view.get("messages", []):
        author = msg["author"]
        console.print(f"  [{persian_digits(msg['at_jalali'])}] {msg['action_fa']} از {author['national_id']} "
                      f"({author['role']}@{author['unit']}): {msg['text']}", markup=False)


def _print_list(data: dict[str, Any]) -> None:
    table(f"درخواست‌های پشتیبانی ({persian_digits(data['count'])})", ["شماره", "موضوع", "وضعیت", "درخواست‌کننده",
                                                                       "آخرین تغییر"],
          [(r["id"], r["subject"], r["status_fa"], f"{r['requester']['national_id']}@{r['requester']['unit']}",
            r["updated_at_jalali"]) for r in data["requests"]])


def _station(server: str, token: str, key_label: str, role: str, unit: str, call: Any, json_out: bool,
             show: Any = _print_request) -> None:
    def go() -> None:
        result = at_station(server, token, key_label, role, unit, call)
        emit_json(result) if json_out else show(result)

    run_command(go, json_out)


@app.command("open", help="گشودن درخواست پشتیبانی — open a support request")
def open_cmd(*, subject: str = typer.Option(..., "--subject", help="موضوع — subject"),
             text: str = typer.Option(..., "--text", help="متن درخواست — text"),
             server: Server, token: Token, role: SessionRole, unit: Unit, key_label: KeyLabel = "sign",
             json_out: JsonOut = False) -> None:
    from stations.support import open_request

    _station(server, token, key_label, role, unit, lambda st: open_request(st, subject, text), json_out)


@app.command("list", help="درخواست‌های من (پشتیبانی: همه) — my requests (support: all)")
def list_cmd(*, status: str = typer.Option(None, "--status", help="open | answered | closed"),
             server: Server, token: Token, role: SessionRole, unit: Unit, key_label: KeyLabel = "sign",
             json_out: JsonOut = False) -> None:
    from stations.support import list_requests

    _station(server, token, key_label, role, unit, lambda st: list_requests(st, status), json_out, _print_list)


@app.command("show", help="درخواست و روند پاسخ‌ها — a request and its reply trail")
def show_cmd(*, request_id: IdOpt, server: Server, token: Token, role: SessionRole, unit: Unit,
             key_label: KeyLabel = "sign", json_out: JsonOut = False) -> None:
    from stations.support import show_request

    _station(server, token, key_label, role, unit, lambda st: show_request(st, request_id), json_out)


@app.command("reply", help="پاسخ به درخواست یا بستن آن — reply to a request or close it")
def reply_cmd(*, request_id: IdOpt, text: str = typer.Option("", "--text", help="متن پاسخ — text"),
              close: bool = typer.Option(False, "--close", help="بستن درخواست — close it"),
              server: Server, token: Token, role: SessionRole, unit: Unit, key_label: KeyLabel = "sign",
              json_out: JsonOut = False) -> None:
    from stations.support import reply

    _station(server, token, key_label, role, unit, lambda st: reply(st, request_id, text, close), json_out)


def _production() -> Any:
    """The production container (eproc.wiring attaches the contractor registry), migrated."""
    from eproc.wiring import production
    from store.migrate import upgrade

    deps = production()
    engine = deps.sessions.kw["bind"]
    upgrade(engine)  # as every command that writes the database (eproc.context.AppContext.migrate)
    return deps


@app.command("contacts", help="همراه و رایانامهٔ پیمانکار در فهرست پیمانکاران — a contractor's contacts in the "
                              "contractor registry")
def contacts_cmd(*, company: str = typer.Option(..., "--company", help="شناسهٔ ملی شرکت — company national ID"),
                 mobile: str = typer.Option(None, "--mobile", help="همراه — mobile (09xxxxxxxxx)"),
                 email: str = typer.Option(None, "--email", help="رایانامه — e-mail"),
                 json_out: JsonOut = False) -> None:
    from integrations.contractor_registry import Contacts
    from services.notify import registry_of

    def go() -> None:
        registry = registry_of(_production())
        assert registry is not None  # attached by _production
        if mobile is None and email is None:
            found = registry.contacts(company)
            if found is None:
                raise DomainError(Reason.NOT_FOUND, f"برای شرکت {company} همراه یا رایانامه‌ای ثبت نشده است")
            result = found
        else:
            result = registry.record_contacts(Contacts(company, mobile, email))
        data = {"company": result.company_id, "mobile": result.mobile, "email": result.email}
        emit_json(data) if json_out else console.print(
            f"شرکت {data['company']}: همراه {data['mobile'] or '—'}، رایانامه {data['email'] or '—'}", markup=False)

    run_command(go, json_out)


@app.command("notify", help="پیام‌های پیمانکاران یک مناقصه یا قرارداد (هر پیام یک بار) — send what concerns the "
                            "contractors of a tender or contract (each message once)")
def notify_cmd(*, tender: str = typer.Option(None, "--tender", help="شناسهٔ مناقصه — tender id"),
               contract: str = typer.Option(None, "--contract", help="شمارهٔ پیگیری قرارداد — tracking number"),
               json_out: JsonOut = False) -> None:
    from services.notify import notify_contract, notify_tender

    def go() -> None:
        if (tender is None) == (contract is None):
            raise DomainError(Reason.INVALID_INPUT, "یکی از --tender یا --contract لازم است")
        deps = _production()
        result = notify_tender(deps, tender) if tender is not None else notify_contract(deps, contract)
        if json_out:
            emit_json(result.to_dict())
            return
        console.print(f"فرستاده (اکنون یا پیش‌تر): {persian_digits(len(result.sent))}", markup=False)
        for recipient, key in result.unreachable:
            console.print(f"بی‌نشانی: {recipient} — {key}", markup=False)

    run_command(go, json_out)


@app.command("gaps", help="پیام‌هایی که به کسی نرسید (بی همراه در فهرست) — notifications nobody received")
def gaps_cmd(*, json_out: JsonOut = False) -> None:
    from services.notify import gaps

    def go() -> None:
        items = gaps(_production())
        if json_out:
            emit_json({"count": len(items), "gaps": items})
            return
        table(f"پیام‌های نرسیده ({persian_digits(len(items))})", ["گیرنده", "شرکت", "الگو", "کلید", "زمان"],
              [(g["recipient"], g["company"], g["template"], g["dedup"], g["noted_at_jalali"]) for g in items])

    run_command(go, json_out)
