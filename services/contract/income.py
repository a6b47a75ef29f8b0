"""Income contracts (R30): the nature of a contract and an income contract's schedule, as the contract
keeps them (`data_json`: `nature`, and `income` with the type, the real-estate transaction, the lease
terms and the schedule). Registration itself (workflow, contract code) is the expense contracts' own
(services.contract.registration); receipts are services.contract.receipts."""
from __future__ import annotations

from datetime import date
from typing import Any

from domain.contract.income import (
    EXPENSE,
    INCOME,
    RentLine,
    contract_nature,
    rent_schedule,
    single_payment_schedule,
)
from domain.reasons import DomainError, Reason
from services.contract.inputs import ContractTerms, IncomeTerms
from store import models as m


def nature_for(kind: str, terms: ContractTerms) -> str:
    """The nature of the contract an award of kind `kind` makes with these terms (the one rule:
    domain.contract.income.contract_nature). Raises: INVALID_INPUT (a stated nature the kind
    contradicts, an unknown transaction). Rule: R30."""
    income = terms.income
    return contract_nature(kind, income.transaction if income else None, income.nature if income else None)


def income_data(income: IncomeTerms | None, amount_rial: int, contract_day: date) -> dict[str, Any]:
    """What an income contract keeps beyond the expense contract's data: its type, the real-estate
    transaction, the lease terms and the schedule (a lease's rent schedule; otherwise the whole price
    in one line due on `contract_day`, a Tehran day). Amounts in rials.

    Raises: INVALID_INPUT (a lease whose rent schedule does not add up to the award's amount,
    unusable lease terms). Rule: R30."""
    income = income or IncomeTerms()
    lease = income.lease
    if lease is not None:
        schedule = rent_schedule(lease.starts, lease.months, lease.monthly_rent_rial)
        total = sum(line.amount_rial for line in schedule)
        if total != amount_rial:
            raise DomainError(Reason.INVALID_INPUT, f"جمع اجاره‌بها ({lease.months} ماه × {lease.monthly_rent_rial}"
                                                    f" = {total} ریال) با مبلغ برندهٔ معامله ({amount_rial} ریال) برابر نیست")
    else:
        schedule = single_payment_schedule(contract_day, amount_rial)
    return {"type": income.type, "transaction": income.transaction,
            "lease": None if lease is None else {"lessee": lease.lessee, "months": lease.months,
                                                 "starts": lease.starts.isoformat(),
                                                 "monthly_rent_rial": lease.monthly_rent_rial},
            "schedule": [{"seq": line.seq, "due": line.due.isoformat(), "amount_rial": line.amount_rial}
                         for line in schedule]}


def nature_of(data: dict[str, Any]) -> str:
    """The nature a stored contract's data states; a contract stored before R30 carried none and was
    registered as an expense contract. Raises nothing."""
    nature = data.get("nature")
    return nature if nature in (EXPENSE, INCOME) else EXPENSE


def schedule_of(row: m.Contract) -> tuple[RentLine, ...]:
    """The schedule of the income contract `row` (its lines in order).

    Raises: INVALID_INPUT (an expense contract, or one stored without a schedule). Rule: R30."""
    import json

    data = json.loads(row.data_json or "{}")
    income = data.get("income")
    if nature_of(data) != INCOME or not income:
        raise DomainError(Reason.INVALID_INPUT, f"قرارداد {row.tracking_number} درآمدی نیست و جدول دریافت ندارد")
    return tuple(RentLine(int(x["seq"]), date.fromisoformat(x["due"]), int(x["amount_rial"]))
                 for x in income["schedule"])


def contract_type_of(data: dict[str, Any]) -> str:
    """The contract's type for the report (general | real_estate | barter). Raises nothing."""
    return str((data.get("income") or {}).get("type") or "general")
