"""Income contracts (R30): which contracts the municipality receives money on, and a lease's rent
schedule with each receipt traced to its lines (tender-rules.md "Transaction kinds and procedures").

Contracts are expense (هزینه‌ای: the municipality pays, by status statements) or income (درآمدی:
the buyer or lessee pays the municipality, by receipts recorded against the contract code). The
nature follows from the transaction kind; nothing else decides it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import jdatetime

from domain.reasons import DomainError, Reason

EXPENSE = "expense"
INCOME = "income"
NATURES = (EXPENSE, INCOME)

# Transaction kinds (tender-rules.md) and what each one's award makes.
_KIND_NATURE = {"tender": EXPENSE, "price_inquiry": EXPENSE, "auction": INCOME, "online_auction": INCOME}
# Real-estate transactions (R22), from the municipality's side: it sells or leases out (income) or
# acquires (expense). `lease` is the municipality leasing a property out to the lessee, as
# scenario-format.md's `real_estate.lease.lessee` names the other party.
_TRANSACTION_NATURE = {"sale": INCOME, "lease": INCOME, "rent_out": INCOME, "acquisition": EXPENSE}
LEASE_TRANSACTIONS = ("lease", "rent_out")

# A receipt line's state in the schedule (as of a day).
PAID = "paid"
PAID_LATE = "paid_late"
SHORT = "short"          # due and not (fully) received
OPEN = "open"            # not yet due, not fully received


def contract_nature(kind: str, transaction: str | None = None, stated: str | None = None) -> str:
    """The nature (`expense` | `income`) of the contract a transaction of kind `kind` (tender,
    price_inquiry, auction, online_auction) ends in; `transaction`, a real-estate transaction (sale,
    lease, rent_out, acquisition), decides it when given. `stated`: the nature a scenario or an
    officer wrote; it must agree.

    Raises: INVALID_INPUT (unknown kind or transaction, or a stated nature the kind contradicts).
    Rule: R30; tender-rules.md "Transaction kinds and procedures" (income contracts)."""
    if kind not in _KIND_NATURE:
        raise DomainError(Reason.INVALID_INPUT, f"نوع معاملهٔ ناشناخته: «{kind}»")
    nature = _KIND_NATURE[kind]
    if transaction is not None:
        if transaction not in _TRANSACTION_NATURE:
            raise DomainError(Reason.INVALID_INPUT, f"نوع معاملهٔ ملک ناشناخته: «{transaction}»")
        nature = _TRANSACTION_NATURE[transaction]
    if stated is not None and stated != nature:
        raise DomainError(Reason.INVALID_INPUT,
                          f"قرارداد «{kind}»{'/' + transaction if transaction else ''} {_FA[nature]} است، نه {_FA.get(stated, stated)}")
    return nature


_FA = {EXPENSE: "هزینه‌ای", INCOME: "درآمدی"}


def check_statement_allowed(nature: str, contract: str = "") -> None:
    """Status statements exist only on expense contracts: an income contract's money comes in by receipts.

    Raises: INCOME_CONTRACT_NO_STATEMENT for an income contract. Rule: R30."""
    if nature == INCOME:
        raise DomainError(Reason.INCOME_CONTRACT_NO_STATEMENT, contract)


@dataclass(frozen=True)
class RentLine:
    """One line of an income contract's schedule: number (1, 2, ...), the Gregorian day it is due
    (a Tehran calendar day), the amount due in rials."""

    seq: int
    due: date
    amount_rial: int


def rent_schedule(starts: date, months: int, monthly_rent_rial: int) -> tuple[RentLine, ...]:
    """A lease's rent schedule: `months` lines of `monthly_rent_rial`, the first due on `starts` and
    each next one on the same Jalali day of the following Jalali month (the month's last day when it
    is shorter).

    Raises: INVALID_INPUT (months < 1, a rent not a positive whole number of rials). Rule: R30."""
    if months < 1:
        raise DomainError(Reason.INVALID_INPUT, "مدت اجاره باید دست‌کم یک ماه باشد")
    if isinstance(monthly_rent_rial, bool) or monthly_rent_rial <= 0:
        raise DomainError(Reason.INVALID_INPUT, "اجاره‌بهای ماهانه باید مثبت باشد")
    first = jdatetime.date.fromgregorian(date=starts)
    lines = []
    for i in range(months):
        month0 = first.month - 1 + i
        year, month = first.year + month0 // 12, month0 % 12 + 1
        last_day = jdatetime.j_days_in_month[month - 1] + (1 if month == 12 and jdatetime.date(year, 1, 1).isleap() else 0)
        due = jdatetime.date(year, month, min(first.day, last_day)).togregorian()
        lines.append(RentLine(i + 1, due, monthly_rent_rial))
    return tuple(lines)


def single_payment_schedule(due: date, amount_rial: int) -> tuple[RentLine, ...]:
    """A sale's schedule: the whole price in one line due on `due`. Raises: INVALID_INPUT. Rule: R30."""
    if isinstance(amount_rial, bool) or amount_rial <= 0:
        raise DomainError(Reason.INVALID_INPUT, "مبلغ قرارداد باید مثبت باشد")
    return (RentLine(1, due, amount_rial),)


@dataclass(frozen=True)
class ReceiptShare:
    """The part (rials) of a receipt that settles schedule line `seq`; `late` when received after its due day."""

    seq: int
    amount_rial: int
    late: bool


@dataclass(frozen=True)
class ReceiptTrace:
    """A receipt (`ref`, Tehran day received, rials) traced to the schedule lines it settles, oldest first."""

    ref: str
    day: date
    amount_rial: int
    shares: tuple[ReceiptShare, ...]

    @property
    def late(self) -> bool:
        return any(s.late for s in self.shares)


def trace_receipts(schedule: Sequence[RentLine], receipts: Sequence[tuple[str, date, int]]) -> list[ReceiptTrace]:
    """Each receipt (ref, Tehran day received, rials), in the order given, settles the oldest lines
    still open first; a share is late when the day received is after the line's due day.

    Raises: INVALID_INPUT (an amount not positive, or above what is still due when it arrives,
    naming the receipt). Rule: R30 (each receipt traces back to its contract and line)."""
    remaining = [line.amount_rial for line in schedule]
    out: list[ReceiptTrace] = []
    for ref, day, amount in receipts:
        if isinstance(amount, bool) or amount <= 0:
            raise DomainError(Reason.INVALID_INPUT, f"دریافت {ref}: مبلغ باید مثبت باشد")
        if amount > sum(remaining):
            raise DomainError(Reason.INVALID_INPUT,
                              f"دریافت {ref}: مبلغ {amount} بیش از مانده‌ی قابل دریافت {sum(remaining)} است")
        left, shares = amount, []
        for i, line in enumerate(schedule):
            if left == 0:
                break
            take = min(left, remaining[i])
            if take:
                remaining[i] -= take
                left -= take
                shares.append(ReceiptShare(line.seq, take, day > line.due))
        out.append(ReceiptTrace(ref, day, amount, tuple(shares)))
    return out


@dataclass(frozen=True)
class LineStatus:
    """A schedule line as of a day: received so far (rials), the receipts that settled it, its state
    (paid | paid_late | short | open)."""

    line: RentLine
    received_rial: int
    receipts: tuple[str, ...]
    state: str


def schedule_status(schedule: Sequence[RentLine], traces: Sequence[ReceiptTrace], as_of: date) -> list[LineStatus]:
    """Each line of the schedule as of the Tehran day `as_of`: paid (on time), paid_late, short (due
    and not fully received: a late or short receipt shows here), or open (not yet due). Raises nothing.
    Rule: R30."""
    out = []
    for line in schedule:
        shares = [(t.ref, s) for t in traces for s in t.shares if s.seq == line.seq]
        received = sum(s.amount_rial for _, s in shares)
        if received >= line.amount_rial:
            state = PAID_LATE if any(s.late for _, s in shares) else PAID
        else:
            state = SHORT if as_of > line.due else OPEN
        out.append(LineStatus(line, received, tuple(ref for ref, _ in shares), state))
    return out
