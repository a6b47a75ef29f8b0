"""Reconciliation against the Treasury's records (R29): each line of a Treasury statement matched with
the payments the system made, and every mismatch named.

A Treasury statement is a CSV file, one payment per line (docs/completeness.md): `date` (Jalali, the
day the Treasury paid), `payment_key` (the payment's idempotency key, which the financial system
received from this system; the Treasury's reference), `contract_code`, `amount_rial`, `payee` (the
payee's national or company id) and, optionally, `exemption` (initial_petty_cash | deposit_refund |
fee_refund: payments exempt from the budget-line rule, not charged to a contract's statement).
Persian and Arabic-Indic digits, grouping by threes and invisible marks are accepted; a line that
cannot be read is reported with its number and reason code and the rest of the file is still
reconciled. Source: R29 (s101, s109, s111, s120, s125, s128, s136: "reconciliation against the
Treasury's records").

Pure: the caller (services.contract.treasury) reads the file and the store.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from domain.contract.payment_data import check_exemption
from domain.persian import clean_identifier, normalize, parse_amount_rial, parse_jalali_date
from domain.reasons import DomainError, Reason

COLUMNS = ("date", "payment_key", "contract_code", "amount_rial", "payee")
OPTIONAL_COLUMNS = ("exemption",)
# Persian headers people use for the same columns.
HEADER_ALIASES = {"تاریخ": "date", "کلید پرداخت": "payment_key", "مرجع": "payment_key", "شماره مرجع": "payment_key",
                  "کد قرارداد": "contract_code", "مبلغ": "amount_rial", "مبلغ (ریال)": "amount_rial",
                  "ذینفع": "payee", "ذی‌نفع": "payee", "دریافت‌کننده": "payee", "معافیت": "exemption"}

# Mismatch kinds and their Persian descriptions.
MISSING_IN_SYSTEM = "missing_in_system"
MISSING_IN_TREASURY = "missing_in_treasury"
AMOUNT_DIFFERS = "amount_differs"
CODE_UNKNOWN = "code_unknown"
CODE_DIFFERS = "code_differs"
PAYEE_DIFFERS = "payee_differs"
DUPLICATE_LINE = "duplicate_line"
KIND_FA = {
    MISSING_IN_SYSTEM: "در خزانه پرداخت شده ولی سامانه چنین پرداختی ندارد",
    MISSING_IN_TREASURY: "سامانه پرداخت کرده ولی در صورت خزانه نیست",
    AMOUNT_DIFFERS: "مبلغ خزانه با مبلغ پرداخت سامانه برابر نیست",
    CODE_UNKNOWN: "کد قرارداد در سامانه نیست",
    CODE_DIFFERS: "کد قرارداد خزانه با قرارداد پرداخت سامانه یکی نیست",
    PAYEE_DIFFERS: "ذی‌نفع خزانه با پیمانکار قرارداد یکی نیست",
    DUPLICATE_LINE: "این کلید پرداخت در صورت خزانه تکرار شده است",
}
# The reason code each kind carries where one of reason-codes.md fits.
KIND_REASON = {CODE_UNKNOWN: Reason.NO_CONTRACT_CODE, DUPLICATE_LINE: Reason.DUPLICATE_PAYMENT}


@dataclass(frozen=True)
class TreasuryLine:
    """One read line: its number in the file (1 = header), the Treasury's day, payment key, contract
    code ("" for an exempt payment without one), amount in rials, payee id, exemption or None."""

    line: int
    day: date
    payment_key: str
    contract_code: str
    amount_rial: int
    payee: str
    exemption: str | None


@dataclass(frozen=True)
class SystemPayment:
    """A payment the system made: its key, contract code, amount in rials, the contractor's id, the
    Tehran day it was paid."""

    payment_key: str
    contract_code: str
    amount_rial: int
    payee: str
    day: date


@dataclass(frozen=True)
class Mismatch:
    """A difference between the Treasury and the system: kind, the payment key, the line number (None
    for a payment missing in the Treasury), the two amounts and codes (None where a side has none), a
    reason code where one fits, and the Persian description."""

    kind: str
    payment_key: str
    line: int | None
    treasury_rial: int | None
    system_rial: int | None
    treasury_code: str | None
    system_code: str | None
    reason: Reason | None

    @property
    def description_fa(self) -> str:
        return KIND_FA[self.kind]


def header_columns(header: Sequence[str]) -> list[str]:
    """The column keys of a Treasury statement's header (English keys or their Persian names).

    Raises: FIELD_MISSING naming every mandatory column absent. Rule: R29."""
    keys = []
    for cell in header:
        text = normalize(str(cell or "")).strip().lower()
        keys.append(HEADER_ALIASES.get(text, text))
    missing = [c for c in COLUMNS if c not in keys]
    if missing:
        raise DomainError(Reason.FIELD_MISSING, ", ".join(missing), fields=",".join(missing))
    return keys


def read_line(cells: Mapping[str, str], line: int) -> TreasuryLine:
    """One line of a Treasury statement as read (`cells`: column key -> text).

    Raises: FIELD_MISSING (a blank date, key, amount or payee; a blank contract code on a payment
    that is not exempt), INVALID_INPUT (a date that is not Jalali, an amount that is not a whole
    number, an unknown exemption), AMOUNT_OUT_OF_RANGE (zero, negative or too large). Rule: R29."""
    text = {k: normalize(str(v or "")).strip() for k, v in cells.items()}
    exemption = text.get("exemption") or None
    needed = ["date", "payment_key", "amount_rial", "payee"] + ([] if exemption else ["contract_code"])
    blank = [k for k in needed if not text.get(k)]
    if blank:
        raise DomainError(Reason.FIELD_MISSING, ", ".join(blank), fields=",".join(blank))
    if exemption is not None:
        check_exemption(exemption)
    amount = parse_amount_rial(text["amount_rial"], "amount_rial")
    if amount <= 0:
        raise DomainError(Reason.AMOUNT_OUT_OF_RANGE, f"amount_rial: «{text['amount_rial']}»")
    return TreasuryLine(line=line, day=parse_jalali_date(text["date"]), payment_key=text["payment_key"],
                        contract_code=text.get("contract_code") or "", amount_rial=amount,
                        payee=clean_identifier(text["payee"]), exemption=exemption)


def reconcile(lines: Iterable[TreasuryLine], payments: Iterable[SystemPayment],
              known_codes: Iterable[str]) -> list[Mismatch]:
    """Every mismatch between the Treasury's lines and the system's payments of the same period,
    matched by payment key: a line the system has no payment for (missing_in_system; code_unknown
    instead when its contract code is not in the system either), a system payment no line names
    (missing_in_treasury), a different amount (amount_differs), contract code (code_differs) or payee
    (payee_differs), a key on two lines (duplicate_line). Exempt lines (R29 exemptions) are not
    charged to a contract's statement: only their contract code, when given, must be known.

    Returns the mismatches by line number, then those missing in the Treasury by key. Raises: nothing.
    Rule: R29."""
    codes = set(known_codes)
    by_key = {p.payment_key: p for p in payments}
    seen: set[str] = set()
    out: list[Mismatch] = []

    def add(kind: str, t: TreasuryLine | None, p: SystemPayment | None) -> None:
        key = t.payment_key if t is not None else p.payment_key if p is not None else ""
        out.append(Mismatch(kind, key, t.line if t else None,
                            t.amount_rial if t else None, p.amount_rial if p else None,
                            t.contract_code if t else None, p.contract_code if p else None,
                            KIND_REASON.get(kind)))

    for t in lines:
        if t.payment_key in seen:
            add(DUPLICATE_LINE, t, by_key.get(t.payment_key))
            continue
        seen.add(t.payment_key)
        if t.contract_code and t.contract_code not in codes:
            add(CODE_UNKNOWN, t, by_key.get(t.payment_key))
            continue
        if t.exemption is not None:
            continue
        p = by_key.get(t.payment_key)
        if p is None:
            add(MISSING_IN_SYSTEM, t, None)
            continue
        if p.contract_code != t.contract_code:
            add(CODE_DIFFERS, t, p)
        if p.amount_rial != t.amount_rial:
            add(AMOUNT_DIFFERS, t, p)
        if p.payee and clean_identifier(p.payee) != t.payee:
            add(PAYEE_DIFFERS, t, p)
    for key in sorted(set(by_key) - seen):
        add(MISSING_IN_TREASURY, None, by_key[key])
    return out
