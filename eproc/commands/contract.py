"""`eproc contract ...`: a contract and its status statements at the people's own stations, each on
their own token (issue 13 parts 1 and 2; R12, R13, R17, R18, R29), and the budget-line and
expense-factor registries the registration office keeps. Usage: eproc/commands/contracts.py.

Station commands (`open`, `terms`, `show`, `approve`, `inbox`, `statement submit|show|sign`) are thin
wrappers over stations.contracts and reach the engine only over HTTP (`--server`); `registry ...`
writes the engine's own database (services.contract.registries), as `eproc registry` does.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import typer

from domain.persian import parse_decimal, parse_int
from domain.reasons import DomainError, Reason
from eproc.commands.station_options import JsonOut, KeyLabel, Server, Token, Unit, at_station
from eproc.errors import run_command
from eproc.output import console, emit_json

contract_app = typer.Typer(help="قرارداد و صورت‌وضعیت در جایگاه هر شخص با توکن خود — contracts and status statements "
                                "at each person's own station", no_args_is_help=True)
statement_app = typer.Typer(help="صورت‌وضعیت‌ها — status statements", no_args_is_help=True)
registry_app = typer.Typer(help="ثبت ردیف‌های بودجه و عوامل هزینه (دفتر ثبت) — budget-line and expense-factor "
                                "registries (registration office)", no_args_is_help=True)
contract_app.add_typer(statement_app, name="statement")
contract_app.add_typer(registry_app, name="registry")

TenderOpt = Annotated[str, typer.Option("--tender", help="شناسهٔ مناقصه — tender id")]
RoleOpt = Annotated[str, typer.Option("--role", help="سمت نشست — the session's role")]
RefOpt = Annotated[str, typer.Option("--ref", help="شناسهٔ صورت‌وضعیت — statement ref")]
Sha = Annotated[str | None, typer.Option("--sha256", help="چکیده‌ای که «show» نشان داد — the hash `show` printed")]
ACTOR = "cli"
STAGE_FA = {"draft": "پیش‌نویس", "legal_review": "بررسی حقوقی", "budget": "تأمین اعتبار", "treasurer": "ذی‌حساب",
            "signing": "امضای طرفین", "final": "نهایی"}


def _print_contract(view: dict[str, Any]) -> None:
    console.print(f"قرارداد {view['tracking_number']} — کد: {view['code'] or 'صادر نشده'} — مرحله: "
                  f"{STAGE_FA.get(view['stage'], view['stage'])}", markup=False)
    console.print(f"ردیف بودجه: {view['budget_line'] or '—'} (کد کل: {view.get('budget_general_code') or '—'})، "
                  f"عامل هزینه: {view['expense_factor'] or '—'}"
                  f"{'' if view['expense_factor_approved'] else ' (در انتظار تصویب کمیته)'}، "
                  f"کد تأمین اعتبار: {view['budget_allocation_code'] or '—'}، ناظر: {view['supervisor'] or '—'}",
                  markup=False)
    waiting = "، ".join(f"{r}@{u}" for r, u in view["waiting_for"]) or "—"
    console.print(f"منتظر: {waiting}", markup=False)
    console.print(f"چکیدهٔ SHA-256 سند قرارداد (Body): {view['contract_sha256']}", markup=False)


def _station(server: str, token: str, key_label: str, role: str, unit: str, call: Any, json_out: bool,
             show: Any = _print_contract) -> None:
    def go() -> None:
        result = at_station(server, token, key_label, role, unit, call)
        emit_json(result) if json_out else show(result)

    run_command(go, json_out)


@contract_app.command("open", help="گشایش قرارداد از صورتجلسهٔ نهایی — open the contract from the final minutes")
def open_cmd(*, tender: TenderOpt, server: Server, token: Token, unit: Unit,
             bidder: str = typer.Option(None, "--bidder", help="پیشنهاددهنده؛ پیش‌فرض برنده — bidder (default: winner)"),
             role: RoleOpt = "contracts_officer", key_label: KeyLabel = "sign", json_out: JsonOut = False) -> None:
    from stations.contracts import open_contract

    _station(server, token, key_label, role, unit, lambda st: open_contract(st, tender, bidder), json_out)


@contract_app.command("show", help="شرایط، مرحله و تأییدهای قرارداد — the contract's terms, stage and approvals")
def show_cmd(*, tender: TenderOpt, server: Server, token: Token, unit: Unit, role: RoleOpt = "contracts_officer",
             key_label: KeyLabel = "sign", json_out: JsonOut = False) -> None:
    from stations.contracts import show_contract

    _station(server, token, key_label, role, unit, lambda st: show_contract(st, tender), json_out)


@contract_app.command("terms", help="ورود شرایط قرارداد از ثبت‌ها — enter the contract's terms from the registries")
def terms_cmd(*, tender: TenderOpt, server: Server, token: Token, unit: Unit,
              budget_line: str = typer.Option(None, "--budget-line", help="ردیف بودجهٔ واحد — the unit's budget line"),
              expense_factor: str = typer.Option(None, "--expense-factor", help="عامل هزینه — expense factor"),
              budget_allocation: str = typer.Option(None, "--budget-allocation",
                                                    help="کد تأمین اعتبار — budget-allocation code"),
              supervisor: str = typer.Option(None, "--supervisor", help="کد ملی ناظر — supervisor's national ID"),
              employer_signatory: list[str] = typer.Option(None, "--employer-signatory",
                                                           help="کد ملی امضاکنندهٔ کارفرما (تکرارپذیر) — repeatable"),
              kind: str = typer.Option(None, "--kind", help="نوع قرارداد — contract kind (general, barter, ...)"),
              waste_min_vehicles: str = typer.Option(None, "--waste-min-vehicles"),
              waste_min_workers: str = typer.Option(None, "--waste-min-workers"),
              waste_vehicle_penalty: str = typer.Option(None, "--waste-vehicle-penalty-rial"),
              waste_worker_penalty: str = typer.Option(None, "--waste-worker-penalty-rial"),
              field: list[str] = typer.Option(None, "--field", help="قلم دیگر name=value (تکرارپذیر) — repeatable"),
              role: RoleOpt = "contracts_officer", key_label: KeyLabel = "sign", json_out: JsonOut = False) -> None:
    from services.contract.requests import TermsEntry
    from stations.contracts import enter_terms

    def call(st: Any) -> Any:
        waste_values = (waste_min_vehicles, waste_min_workers, waste_vehicle_penalty, waste_worker_penalty)
        waste = None
        if any(v is not None for v in waste_values):
            if any(v is None for v in waste_values):
                raise DomainError(Reason.INVALID_INPUT, "شرایط پسماند: هر چهار گزینهٔ --waste-* لازم است")
            waste = dict(zip(("min_vehicles", "min_workers", "penalty_per_missing_vehicle_rial",
                              "penalty_per_missing_worker_rial"), (parse_int(v, "شرایط پسماند") for v in waste_values),
                             strict=True))
        fields = {}
        for item in field or []:
            name, sep, value = item.partition("=")
            if not sep:
                raise DomainError(Reason.INVALID_INPUT, f"--field باید name=value باشد: «{item}»")
            fields[name.strip()] = value
        entry = TermsEntry(budget_line, expense_factor, budget_allocation, supervisor,
                           tuple(employer_signatory) if employer_signatory else None, kind, waste, fields)
        return enter_terms(st, tender, entry)

    _station(server, token, key_label, role, unit, call, json_out)


@contract_app.command("approve", help="تأیید مرحلهٔ جاری با توکن خود — approve the current stage on your token")
def approve_cmd(*, tender: TenderOpt, server: Server, token: Token, unit: Unit, role: RoleOpt,
                stage: str = typer.Option(None, "--stage", help="مرحله؛ پیش‌فرض مرحلهٔ جاری — stage (default: current)"),
                sha256: Sha = None, key_label: KeyLabel = "sign", json_out: JsonOut = False) -> None:
    from stations.contracts import approve_stage

    _station(server, token, key_label, role, unit, lambda st: approve_stage(st, tender, stage, sha256), json_out)


def _print_inbox(box: dict[str, Any]) -> None:
    console.print(f"کارتابل {box['role']}@{box['unit']}", markup=False)
    for c in box["contracts"]:
        console.print(f"- قرارداد {c['tracking_number']} ({c['tender_id']})، مرحلهٔ {STAGE_FA.get(c['stage'], c['stage'])}، "
                      f"{c['amount_rial']:,} ریال", markup=False)
    for s in box["statements"]:
        console.print(f"- صورت‌وضعیت {s['ref']} قرارداد {s['contract_code'] or s['tracking_number']}، قابل پرداخت "
                      f"{s['payable_rial']:,} ریال", markup=False)
    for f in box["expense_factors_awaiting_committee"]:
        console.print(f"- عامل هزینهٔ {f['code']} ({f['title']}) در انتظار تصویب کمیته", markup=False)
    if not (box["contracts"] or box["statements"] or box["expense_factors_awaiting_committee"]):
        console.print("چیزی منتظر شما نیست.", markup=False)


@contract_app.command("inbox", help="آنچه منتظر شماست (کارتابل ذی‌حساب، R29) — what waits for you")
def inbox_cmd(*, server: Server, token: Token, unit: Unit, role: RoleOpt, key_label: KeyLabel = "sign",
              json_out: JsonOut = False) -> None:
    from stations.contracts import inbox

    _station(server, token, key_label, role, unit, inbox, json_out, _print_inbox)


def _print_statement(view: dict[str, Any]) -> None:
    console.print(view["summary_fa"], markup=False)
    console.print(f"نتیجه: {view['result']}{' (' + view['reason'] + ')' if view.get('reason') else ''}؛ نوبت: "
                  f"{view.get('next_role') or '—'}؛ گردش: {' ← '.join(view['path'])}", markup=False)
    console.print(f"چکیدهٔ SHA-256 سند: {view['sha256']}", markup=False)


def _items(values: list[str]) -> list[tuple[str, Decimal]]:
    out = []
    for item in values:
        code, sep, qty = item.partition("=")
        if not sep:
            raise DomainError(Reason.INVALID_INPUT, f"--item باید code=quantity باشد: «{item}»")
        out.append((code.strip(), parse_decimal(qty, f"مقدار {code}")))
    return out


@statement_app.command("submit", help="صورت‌وضعیت تجمعی با توکن پیمانکار — a cumulative statement on the contractor's token")
def statement_submit(*, tender: TenderOpt, ref: RefOpt, server: Server, token: Token,
                     unit: Annotated[str, typer.Option("--unit", help="شناسهٔ ملی شرکت — the company's national ID")],
                     item: list[str] = typer.Option(..., "--item", help="code=quantity (مقدار تجمعی؛ تکرارپذیر)"),
                     vehicles: str = typer.Option(None, "--vehicles", help="خودروهای فعال — active vehicles"),
                     workers: str = typer.Option(None, "--workers", help="کارگران فعال — active workers"),
                     role: RoleOpt = "company_signatory", key_label: KeyLabel = "sign", json_out: JsonOut = False) -> None:
    from stations.contracts import submit_statement

    def call(st: Any) -> Any:
        return submit_statement(st, tender, ref, _items(item), parse_int(vehicles, "خودرو") if vehicles else None,
                                parse_int(workers, "کارگر") if workers else None)

    _station(server, token, key_label, role, unit, call, json_out, _print_statement)


@statement_app.command("show", help="صورت‌وضعیت و نوبت امضا — the statement and whose turn it is")
def statement_show(*, tender: TenderOpt, ref: RefOpt, server: Server, token: Token, unit: Unit, role: RoleOpt,
                   key_label: KeyLabel = "sign", json_out: JsonOut = False) -> None:
    from stations.contracts import show_statement

    _station(server, token, key_label, role, unit, lambda st: show_statement(st, tender, ref)[1], json_out,
             _print_statement)


@statement_app.command("sign", help="امضای صورت‌وضعیت در نوبت خود — sign the statement in your turn")
def statement_sign(*, tender: TenderOpt, ref: RefOpt, server: Server, token: Token, unit: Unit, role: RoleOpt,
                   sha256: Sha = None, key_label: KeyLabel = "sign", json_out: JsonOut = False) -> None:
    from stations.contracts import sign_statement

    def show(view: dict[str, Any]) -> None:
        if not view["sent"]:
            console.print("نوبت امضای شما نیست (یا بررسی پایان یافته است).", markup=False)
        _print_statement(view)

    _station(server, token, key_label, role, unit, lambda st: sign_statement(st, tender, ref, sha256), json_out, show)


@registry_app.command("budget-line", help="ثبت ردیف بودجهٔ واحد با کد کل — a unit's budget line and its general code")
def registry_budget_line(unit: str = typer.Option(..., "--unit"), code: str = typer.Option(..., "--code"),
                         general_code: str = typer.Option(..., "--general-code", help="کد کل شهرداری — general code"),
                         title: str = typer.Option("", "--title"), json_out: JsonOut = False) -> None:
    from eproc.wiring import production
    from services.contract.registries import add_budget_line

    def go() -> None:
        row = add_budget_line(production(), unit, code, general_code, title, ACTOR)
        emit_json(row) if json_out else console.print(f"ثبت شد: {row['unit']}/{row['code']} ← {row['general_code']}",
                                                      markup=False)

    run_command(go, json_out)


@registry_app.command("expense-factor", help="ثبت عامل هزینه و تصویب کمیته — an expense factor and the committee's "
                                             "approval")
def registry_expense_factor(code: str = typer.Option(..., "--code"), title: str = typer.Option("", "--title"),
                            committee_ref: str = typer.Option(None, "--committee-ref",
                                                              help="شمارهٔ مصوبهٔ کمیتهٔ سامانهٔ مالی — approval ref"),
                            json_out: JsonOut = False) -> None:
    from eproc.wiring import production
    from services.contract.registries import add_expense_factor, approve_expense_factor

    def go() -> None:
        deps = production()
        row = add_expense_factor(deps, code, title, ACTOR)
        if committee_ref:
            row = approve_expense_factor(deps, code, committee_ref, ACTOR)
        emit_json(row) if json_out else console.print(
            f"ثبت شد: {row['code']}" + ("، مصوب کمیته" if row["approved"] else "، در انتظار تصویب کمیته"), markup=False)

    run_command(go, json_out)
