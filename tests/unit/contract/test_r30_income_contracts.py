"""R30: contracts are expense or income; an income contract has no status statements, and each
receipt traces back to the lines of its schedule (tender-rules.md "Transaction kinds and procedures")."""
from __future__ import annotations

from datetime import date

import jdatetime
import pytest

from domain.contract.income import (
    EXPENSE,
    INCOME,
    OPEN,
    PAID,
    PAID_LATE,
    SHORT,
    check_statement_allowed,
    contract_nature,
    rent_schedule,
    schedule_status,
    single_payment_schedule,
    trace_receipts,
)
from domain.reasons import DomainError, Reason


def j(y: int, m: int, d: int) -> date:
    return jdatetime.date(y, m, d).togregorian()


@pytest.mark.parametrize(("kind", "transaction", "nature"), [
    ("tender", None, EXPENSE), ("price_inquiry", None, EXPENSE), ("auction", None, INCOME),
    ("online_auction", None, INCOME), ("auction", "sale", INCOME), ("auction", "lease", INCOME),
    ("tender", "acquisition", EXPENSE),
])
def test_r30_the_nature_follows_the_transaction_kind(kind, transaction, nature):
    assert contract_nature(kind, transaction) == nature
    assert contract_nature(kind, transaction, nature) == nature


def test_r30_a_stated_nature_the_kind_contradicts_is_refused():
    with pytest.raises(DomainError) as err:
        contract_nature("auction", stated=EXPENSE)  # an auction award never pays the buyer
    assert err.value.reason is Reason.INVALID_INPUT
    with pytest.raises(DomainError):
        contract_nature("barter_of_sorts")


def test_r30_an_income_contract_takes_no_status_statement():
    check_statement_allowed(EXPENSE)
    with pytest.raises(DomainError) as err:
        check_statement_allowed(INCOME, "TRK-5-1400-00001")
    assert err.value.reason is Reason.INCOME_CONTRACT_NO_STATEMENT


def test_r30_rent_schedule_steps_jalali_months_and_clamps_short_months():
    lines = rent_schedule(j(1400, 6, 31), 8, 90_000_000)
    assert [jdatetime.date.fromgregorian(date=x.due).strftime("%Y/%m/%d") for x in lines] == [
        "1400/06/31", "1400/07/30", "1400/08/30", "1400/09/30", "1400/10/30", "1400/11/30", "1400/12/29",
        "1401/01/31"]
    assert [x.seq for x in lines] == list(range(1, 9)) and {x.amount_rial for x in lines} == {90_000_000}
    with pytest.raises(DomainError):
        rent_schedule(j(1400, 6, 1), 0, 1)


def test_r30_lease_receipts_traced_to_the_schedule_late_and_short():
    schedule = rent_schedule(j(1400, 6, 1), 12, 90_000_000)
    receipts = [("r1", j(1400, 6, 1), 90_000_000), ("r2", j(1400, 7, 5), 90_000_000),
                ("r3", j(1400, 8, 1), 60_000_000), ("r4", j(1400, 9, 1), 120_000_000),
                ("r6", j(1400, 10, 10), 50_000_000)]
    traces = trace_receipts(schedule, receipts)
    assert [(s.seq, s.amount_rial, s.late) for s in traces[3].shares] == [(3, 30_000_000, True),
                                                                        (4, 90_000_000, False)]
    assert not traces[0].late and traces[1].late
    status = schedule_status(schedule, traces, j(1400, 10, 10))
    assert [s.state for s in status[:6]] == [PAID, PAID_LATE, PAID_LATE, PAID, SHORT, OPEN]
    assert status[2].receipts == ("r3", "r4") and status[4].received_rial == 50_000_000


def test_r30_a_receipt_above_what_is_still_due_is_refused():
    schedule = single_payment_schedule(j(1400, 5, 1), 5_350_000_000)
    trace_receipts(schedule, [("r1", j(1400, 5, 2), 2_000_000_000)])
    with pytest.raises(DomainError) as err:
        trace_receipts(schedule, [("r1", j(1400, 5, 2), 2_000_000_000), ("r2", j(1400, 5, 3), 4_000_000_000)])
    assert err.value.reason is Reason.INVALID_INPUT and "r2" in err.value.detail
