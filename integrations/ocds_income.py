"""OCDS 1.1.5 for income contracts (R30): awards of auctions and online auctions, sales and leases, in
which the municipality receives money. How they map onto a contract release, core fields only:

| income contract (R30) | OCDS |
|---|---|
| who pays whom | party roles: the municipality `payee` beside buyer/procuringEntity, the buyer or lessee `payer` beside supplier |
| nature, type, real-estate transaction | `contracts[0].tehran.income` {nature, type, transaction} |
| lease term (start, months) | `contracts[0].period` {startDate, endDate, durationInDays} |
| rent schedule / the single payment of a sale | `contracts[0].milestones[]` (type `financing`, `dueDate`, status `scheduled`), each line's amount in `contracts[0].tehran.income.schedule` (core 1.1.5 milestones carry no value) |

Receipts are not in the release: they are recorded by the financial system against the contract
code after publication (services.contract.receipts).
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from domain.contract.income import rent_schedule
from integrations import ocds

SCHEDULE_MILESTONE_TYPE = "financing"


def _day(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def extender(income: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The `extend_release` hook of integrations.ocds.release_for_contract for an income contract.

    `income`: what the contract keeps (services.contract.income.income_data): type, transaction
    (sale | lease | rent_out | None), lease {lessee, months, starts ISO, monthly_rent_rial} or None,
    schedule [{seq, due ISO, amount_rial}]. Raises: nothing of its own (KeyError on a malformed
    `income`). Rule: R30, R21."""

    def extend(body: dict[str, Any]) -> dict[str, Any]:
        body = copy.deepcopy(body)
        contract = body["contracts"][0]
        municipality, counterparty = body["parties"][0], body["parties"][1]
        if "payee" not in municipality["roles"]:
            municipality["roles"].append("payee")
        if "payer" not in counterparty["roles"]:
            counterparty["roles"].append("payer")
        schedule = list(income.get("schedule") or [])
        contract["tehran"]["income"] = {
            "nature": "income", "type": income.get("type") or "general", "transaction": income.get("transaction"),
            "schedule": [{"seq": int(x["seq"]), "due": str(x["due"]),
                          "value": {"amount": int(x["amount_rial"]), "currency": ocds.CURRENCY}} for x in schedule],
        }
        lease = income.get("lease")
        if lease:
            starts = _day(lease["starts"])
            # The term ends the day before the Jalali month after the last rent falls due (the one
            # rule of Jalali month steps: domain.contract.income.rent_schedule).
            ends = rent_schedule(starts, int(lease["months"]) + 1, 1)[-1].due - timedelta(days=1)
            contract["period"] = {"startDate": ocds.iso_utc(starts), "endDate": ocds.iso_utc(ends),
                                  "durationInDays": (ends - starts).days + 1}
            contract["tehran"]["income"]["lease"] = {
                "lessee": lease.get("lessee"), "months": int(lease["months"]),
                "monthlyRent": {"amount": int(lease["monthly_rent_rial"]), "currency": ocds.CURRENCY}}
        if schedule:
            contract["milestones"] = [{
                "id": f"{contract['id']}-due-{int(x['seq'])}",
                "title": f"دریافت قسط {int(x['seq'])}" if lease else "دریافت بهای معامله",
                "type": SCHEDULE_MILESTONE_TYPE,
                "dueDate": ocds.iso_utc(_day(x["due"])),
                "status": "scheduled",
            } for x in schedule]
        return body

    return extend

