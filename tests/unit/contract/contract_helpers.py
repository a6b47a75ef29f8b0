"""Helpers for the contract-side tests: a role registry, national IDs, scenario files."""
from __future__ import annotations

import tomllib
from datetime import date, datetime
from pathlib import Path

from config.policy import load_policy
from config.settings import BUNDLED_POLICY
from domain.contract.code import ContractCodeSequence
from domain.contract.statement import (
    StatementInput,
    StatementResult,
    StatementTerms,
    compute_statement,
    previous_approved_cumulative,
)
from domain.contract.workflow import CodeGenerator, stages_from_policy
from domain.persian import parse_jalali_date, to_tehran
from domain.reasons import DomainError, Reason
from pilot.scenario import BUNDLED

_HERE = Path(__file__).resolve()

SCENARIO_DIRS = [BUNDLED]  # the scenarios shipped with the engine


def national_id(prefix9: str) -> str:
    """A valid 10-digit national ID from 9 digits, computing the mod-11 check digit here."""
    total = sum(int(prefix9[i]) * (10 - i) for i in range(9)) % 11
    return prefix9 + str(total if total < 2 else 11 - total)


class RoleRegistry:
    """Who held which role in which unit, from and until which day (until exclusive)."""

    def __init__(self) -> None:
        self.grants: list[tuple[str, str, str, date, date | None]] = []
        self.calls: list[tuple[str, str, str, datetime]] = []

    def grant(self, nid: str, role: str, unit: str, start: str = "1399/01/01", until: str | None = None) -> str:
        self.grants.append((nid, role, unit, parse_jalali_date(start),
                            parse_jalali_date(until) if until else None))
        return nid

    def __call__(self, nid: str, role: str, unit: str, at: datetime) -> bool:
        self.calls.append((nid, role, unit, at))
        day = to_tehran(at).date()  # roles are held on Tehran calendar days
        return any(g[0] == nid and g[1] == role and g[2] == unit and g[3] <= day and (g[4] is None or day < g[4])
                   for g in self.grants)


def load_scenario(name: str) -> dict:
    for folder in SCENARIO_DIRS:
        path = folder / name
        if path.exists():
            return tomllib.loads(path.read_text(encoding="utf-8"))
    raise FileNotFoundError(f"scenario {name} not found in {SCENARIO_DIRS}")



# --- what production takes from the policy: nothing here repeats a default ------------------------------
POLICY = load_policy(BUNDLED_POLICY)
STAGES = stages_from_policy(POLICY.stages("district-12"))
PENALTY_FORMULA = POLICY.formula("waste-penalty").to_formula()


def policy_terms(contract_amount_rial: int, **kw) -> StatementTerms:
    """StatementTerms with the policy's allowed change, deductions and (for waste) penalty formula,
    as services.contract.statements.statement_terms builds them; keywords override."""
    kw.setdefault("allowed_change", POLICY.defaults.allowed_change)
    kw.setdefault("deduction_rates", dict(POLICY.defaults.deductions))
    if kw.get("waste") is not None:
        kw.setdefault("penalty_formula", PENALTY_FORMULA)
    return StatementTerms(contract_amount_rial=contract_amount_rial, **kw)


class Ledger:
    """A contract's statements in order, each computed as production computes it: measured from the
    previous approved cumulative (domain previous_approved_cumulative + compute_statement)."""

    def __init__(self, terms: StatementTerms, price_list: dict[str, int]) -> None:
        self.terms, self.price_list = terms, dict(price_list)
        self.results: dict[str, StatementResult] = {}

    @property
    def approved_cumulative_rial(self) -> int:
        return previous_approved_cumulative(self._history(), len(self.results) + 1)

    def _history(self) -> list[tuple[int, str, int]]:
        return [(i, r.result, r.cumulative_rial) for i, r in enumerate(self.results.values(), start=1)]

    def submit(self, statement: StatementInput) -> StatementResult:
        if statement.id in self.results:
            raise DomainError(Reason.INVALID_INPUT, f"duplicate statement {statement.id}")
        result = compute_statement(statement, self.terms, self.price_list, self.approved_cumulative_rial)
        self.results[statement.id] = result
        return result


def memory_codes(unit_codes: dict[str, str]) -> CodeGenerator:
    """The domain's code sequence over an in-memory list of issued codes (the store counts them in production)."""
    issued: list[tuple[str, str]] = []

    def unit_code_of(unit: str) -> str:
        if unit not in unit_codes:
            raise DomainError(Reason.UNKNOWN_UNIT, unit)
        return unit_codes[unit]

    sequence = ContractCodeSequence(unit_code_of, lambda unit, prefix: sum(
        1 for u, code in issued if u == unit and code.startswith(prefix)))

    def generate(unit: str, at: datetime) -> str:
        code = sequence(unit, at)
        issued.append((unit, code))
        return code

    return generate
