"""The contract side of a pilot world: the scenario's contract inputs and the outside systems
(financial, project control, transparency publisher) on the world's database, each fetching from
the store-backed transactions system. Wired into the world's dependency container; calling
`attach` again is harmless."""
from __future__ import annotations

import dataclasses
import tempfile
import tomllib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from domain.contract.statement import WasteTerms
from domain.identity import validate_national_id
from domain.persian import parse_amount_rial, parse_int
from domain.reasons import DomainError, Reason
from domain.validation_fa import problems_fa
from pilot.scenario import Scenario
from services.contract import ContractInputs, ContractTerms, PaymentOrder, StatementRequest
from services.contract.inputs import IncomeTerms, LeaseTerms, ReceiptOrder
from services.deps import Deps
from services.fields import day, edge, normalize_all, when


def inputs_from_scenario(scenario: Scenario) -> ContractInputs:
    """A rehearsal scenario's [contract], [[status_statements]] and [[payments]] (pilot.scenario.Scenario)."""
    c = scenario.contract
    if c is None:
        raise DomainError(Reason.INVALID_INPUT, f"سناریوی «{scenario.scenario.name}» بخش [contract] ندارد")
    deductions = {}
    if c.deductions is not None:
        deductions = {k: Decimal(str(v)) for k, v in c.deductions.model_dump().items() if v is not None}
    waste = None
    if c.service == "waste":
        if c.min_vehicles is None or c.min_workers is None:
            raise DomainError(Reason.INVALID_INPUT, "قرارداد پسماند min_vehicles و min_workers لازم دارد")
        waste = WasteTerms(c.min_vehicles, c.min_workers, c.penalty_per_missing_vehicle_rial,
                           c.penalty_per_missing_worker_rial)
    terms = ContractTerms(budget_line=c.budget_line, expense_factor=c.expense_factor, supervisor=c.supervisor,
                          stop_at_stage=c.stop_at_stage, deductions=deductions, waste=waste)
    statements = tuple(StatementRequest(s.id, s.at, tuple((i.code, i.quantity) for i in s.items), s.vehicles,
                                        s.workers, s.signed_by_contractor) for s in scenario.status_statements)
    payments = tuple(PaymentOrder(p.id, p.statement, p.at, p.contract_code) for p in scenario.payments)
    return ContractInputs(terms, statements, payments)



def attach_stubs(deps: Deps, scenario: Scenario, stubs: dict[str, Any] | None = None) -> dict[str, Any]:
    """Wire the rule-enforcing stubs on the application database (created once, kept in `stubs`) and
    the scenario's contract inputs (its name is the tender id) into `deps`. Returns `stubs`."""
    from integrations.stubs.financial import FinancialSystemStub
    from integrations.stubs.project_control import ProjectControlStub
    from integrations.stubs.transparency import TransparencyPublisherStub
    from services.transactions_view import StoreTransactionsSystem
    from store.stub_tables import create_stub_tables

    stubs = {} if stubs is None else stubs
    if "financial" not in stubs:
        engine = deps.sessions.kw["bind"]
        create_stub_tables(engine)
        transactions = StoreTransactionsSystem(deps.sessions)
        stubs["transactions"] = transactions
        stubs["financial"] = FinancialSystemStub(engine, transactions, deps.clock)
        stubs["project_control"] = ProjectControlStub(engine, transactions, deps.clock)
        stubs["publisher"] = TransparencyPublisherStub(engine, deps.clock,
                                                       publication_cutoff=deps.policy.publication.cutoff,
                                                       publisher_name=deps.policy.publication.publisher)
    tender_id = scenario.scenario.name

    def inputs(requested: str) -> ContractInputs:
        if requested != tender_id:
            raise DomainError(Reason.INVALID_INPUT, f"ورودی‌های قرارداد مناقصهٔ «{requested}» در این آزمایش نیست")
        return inputs_from_scenario(scenario)

    deps.contract_inputs = inputs if scenario.contract is not None else None
    deps.financial, deps.project_control = stubs["financial"], stubs["project_control"]
    deps.publisher = stubs["publisher"]
    return stubs


def attach(world: Any) -> None:
    """Create the stubs on the world's engine (once) and point the contract flows at this world."""
    attach_stubs(world.deps, world.scenario, world.stubs)



# --- income contracts (R30): scenario-format.md "More transaction kinds" -----------------------------
_dt = edge(when, each=False)
_day = edge(day, each=False)
_rial = edge(lambda v, n: parse_amount_rial(v, n or "مبلغ"))
_int = edge(lambda v, n: parse_int(v, n or "عدد"))
_nid = edge(lambda v, n: validate_national_id(v), each=False)
# `[contract]` keys of an income contract beyond the expense contract's (pilot.scenario.ContractDef).
INCOME_CONTRACT_KEYS = ("nature", "type", "real_estate", "barter")


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LeaseDef(_M):
    lessee: str
    months: int = Field(ge=1)
    starts: date
    monthly_rent_rial: int
    _v_d = field_validator("starts", mode="before")(_day)
    _v_r = field_validator("monthly_rent_rial", mode="before")(_rial)
    _v_i = field_validator("months", mode="before")(_int)


class RealEstateDef(BaseModel):
    """`real_estate`: the transaction and, for a lease, its terms; the other keys (property, plate,
    valuation: R22) are accepted here and belong to the real-estate registration."""

    model_config = ConfigDict(extra="allow", frozen=True)
    transaction: Literal["sale", "acquisition", "lease", "rent_out"]
    lease: LeaseDef | None = None


class IncomeContractDef(_M):
    """`[contract]` of a scenario whose contract may be an income contract: the expense contract's
    keys that apply plus `nature`, `type`, `real_estate` (and `barter`, accepted)."""

    budget_line: str = ""
    expense_factor: str = ""
    supervisor: str
    stop_at_stage: str | None = None
    nature: Literal["expense", "income"] | None = None
    type: Literal["general", "real_estate", "barter"] = "general"
    real_estate: RealEstateDef | None = None
    barter: dict[str, Any] | None = None
    _v = field_validator("supervisor", mode="before")(_nid)


class ReceiptDef(_M):
    id: str
    at: datetime
    amount_rial: int
    contract_code: str = "from-award"
    _v_dt = field_validator("at", mode="before")(_dt)
    _v_r = field_validator("amount_rial", mode="before")(_rial)


class IncomeParts(_M):
    contract: IncomeContractDef | None = None
    receipts: list[ReceiptDef] = Field(default_factory=list)


def income_terms(c: IncomeContractDef) -> IncomeTerms:
    """The income side of the terms from a scenario's `[contract]`. Raises nothing."""
    re = c.real_estate
    lease = None
    if re is not None and re.lease is not None:
        lease = LeaseTerms(re.lease.lessee, re.lease.months, re.lease.starts, re.lease.monthly_rent_rial)
    return IncomeTerms(nature=c.nature, type=c.type, transaction=re.transaction if re else None, lease=lease)


def income_inputs(base: ContractInputs | None, c: IncomeContractDef, receipts: list[ReceiptDef]) -> ContractInputs:
    """The contract inputs of an income scenario: the expense keys' terms (`base`, or built from `c`)
    with the income terms and the receipts. Raises nothing."""
    terms = base.terms if base is not None else ContractTerms(budget_line=c.budget_line, expense_factor=c.expense_factor,
                                                              supervisor=c.supervisor, stop_at_stage=c.stop_at_stage)
    terms = dataclasses.replace(terms, income=income_terms(c))
    orders = tuple(ReceiptOrder(r.id, r.at, r.amount_rial, r.contract_code) for r in receipts)
    base = base or ContractInputs(terms)
    return dataclasses.replace(base, terms=terms, receipts=orders)


def use_income_inputs(deps: Deps, tender_id: str, inputs: ContractInputs) -> None:
    """Point the contract flows of this world at `inputs` for the tender `tender_id`."""

    def supply(requested: str) -> ContractInputs:
        if requested != tender_id:
            raise DomainError(Reason.INVALID_INPUT, f"ورودی‌های قرارداد مناقصهٔ «{requested}» در این آزمایش نیست")
        return inputs

    deps.contract_inputs = supply


def _raw(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DomainError(Reason.INVALID_INPUT, f"{path}: پرونده پیدا نشد") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DomainError(Reason.INVALID_INPUT, f"{path}: TOML نامعتبر: {exc}") from None


def is_income_scenario(path: Path | str) -> bool:
    """Whether the scenario at `path` is a sealed-bid scenario (not an online auction) with receipts or
    an income `[contract]` (`nature = "income"`); False for anything unreadable. Raises nothing."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    tender, contract = raw.get("tender"), raw.get("contract")
    if not isinstance(tender, dict) or tender.get("kind") == "online_auction":
        return False
    return "receipts" in raw or (isinstance(contract, dict) and contract.get("nature") == "income")


def split_income(raw: dict[str, Any], where: str) -> tuple[dict[str, Any], IncomeParts]:
    """The scenario without its income keys (`[[receipts]]`, the income keys of `[contract]`), and those
    keys validated. Raises: INVALID_INPUT naming the file (`where`), the key and the problem."""
    rest = dict(raw)
    income: dict[str, Any] = {"receipts": rest.pop("receipts", [])}
    if isinstance(rest.get("contract"), dict):
        contract = dict(rest["contract"])
        income["contract"] = dict(contract)
        rest["contract"] = {k: v for k, v in contract.items() if k not in INCOME_CONTRACT_KEYS}
    try:
        parts = IncomeParts.model_validate(normalize_all(income))
    except ValidationError as exc:
        raise DomainError(Reason.INVALID_INPUT, f"{where}: {problems_fa(exc.errors())}") from None
    if parts.receipts and parts.contract is None:
        raise DomainError(Reason.INVALID_INPUT, f"{where}: receipts: دریافت بدون بخش [contract] معنا ندارد")
    return rest, parts


def load_income_scenario(path: Path | str) -> tuple[Scenario, IncomeParts]:
    """A sealed-bid scenario with an income contract: the scenario as pilot.scenario validates it and
    its income parts. Raises: INVALID_INPUT naming the file, the key and the problem."""
    path = Path(path)
    rest, parts = split_income(_raw(path), str(path))
    try:
        return Scenario.model_validate(rest), parts
    except ValidationError as exc:
        raise DomainError(Reason.INVALID_INPUT, f"{path}: {problems_fa(exc.errors())}") from None


def record_receipts(world: Any, tender_id: str) -> None:
    """Each receipt of the contract inputs at its time (the world's clock moves forward only), once
    even across reruns (services.contract.receipts.record_receipt reads the store first)."""
    from services.contract import receipts as receipts_svc

    with world.deps.uow() as uow:
        if uow.contracts.for_tender(tender_id) is None:
            return
    for at, ref in receipts_svc.timeline(world.deps, tender_id):
        world.clock.set(max(world.clock.now(), at))
        receipts_svc.record_receipt(world.deps, tender_id, ref)


def run_income_pilot(scenario_path: Path | str, out_dir: Path | None = None, workdir: Path | None = None,
                     policy: Any = None, database_url: str | None = None) -> dict[str, Any]:
    """`eproc pilot` for a sealed-bid transaction ending in an income contract (an auction's sale or
    lease, R30): the tender rehearsed as any (pilot.runner.rehearse), then the receipts at their times;
    returns the report with `receipts` and, for the schedule, `rent_schedule`.

    Raises: INVALID_INPUT (the file), and what the API, stores and flows raise."""
    from config.policy import load_policy
    from config.settings import get_settings
    from pilot.contract_report import income_report
    from pilot.evidence import write_bundle
    from pilot.runner import rehearse
    from pilot.world import build_world
    from services.deps import use

    scenario, parts = load_income_scenario(scenario_path)
    policy = policy or load_policy(get_settings().policy_file)
    base = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="eproc-pilot-"))
    world = build_world(scenario, base, policy, database_url)
    attach(world)
    tender_id = scenario.scenario.name
    if parts.contract is not None:
        use_income_inputs(world.deps, tender_id, income_inputs(inputs_from_scenario(scenario), parts.contract,
                                                               parts.receipts))
    with use(world.deps):
        report = rehearse(world)
        record_receipts(world, tender_id)
        report = income_report(world, report)
    if out_dir is not None:
        write_bundle(world, Path(out_dir), report)
    return report
