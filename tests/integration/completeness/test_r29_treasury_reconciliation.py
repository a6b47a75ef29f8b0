"""R29: the system's payments are reconciled against the Treasury's records. A Treasury statement
(CSV) is matched with the payments the system made in the period it covers; every mismatch is listed
(missing in the system, missing in the Treasury, amount, code or payee differs, unknown contract
code); Persian and Arabic-Indic digits are read; a bad line is reported with its number and reason
code and the rest of the file is still reconciled."""
from __future__ import annotations

import pytest

from domain.reasons import DomainError, Reason
from services.contract.treasury import reconcile_statement

HEADER = "date,payment_key,contract_code,amount_rial,payee,exemption\n"
CONTRACTOR = "10000000077"


@pytest.fixture
def paid(add_contract, add_payment):
    a = add_contract("district-12", "final", "medium", concluded="1400/03/01 10:00", code="12-1400-000001",
                     contractor=CONTRACTOR)
    b = add_contract("district-12", "final", "small", concluded="1400/03/05 10:00", code="12-1400-000002",
                     contractor=CONTRACTOR)
    add_payment(a, "k-a1", 312_750_000, "1400/04/02 10:00")
    add_payment(a, "k-a2", 100_000_000, "1400/04/10 10:00")
    add_payment(b, "k-b1", 50_000_000, "1400/04/12 10:00")
    add_payment(b, "k-b2", 70_000_000, "1400/04/20 10:00")  # the Treasury has not paid it
    add_payment(b, "k-b0", 10_000_000, "1400/04/03 10:00", result="refused")  # refused: not a payment
    add_payment(b, "k-old", 9_000_000, "1400/02/20 10:00")  # outside the statement's period


def test_r29_treasury_statement_mismatches_are_listed(tmp_path, sessions, clock, paid):
    path = tmp_path / "treasury-1400-04.csv"
    path.write_text(
        HEADER
        + "۱۴۰۰/۰۴/۰۲,k-a1,12-1400-000001,\"۳۱۲,۷۵۰,۰۰۰\",۱۰۰۰۰۰۰۰۰۷۷,\n"  # Persian digits, grouped: matches
        + "1400/04/10,k-a2,12-1400-000001,100000001,10000000077,\n"           # one rial more
        + "1400/04/12,k-b1,12-1400-000001,50000000,10000000077,\n"            # the other contract's code
        + "1400/04/15,k-x1,12-1400-000002,20000000,10000000077,\n"            # the system never paid it
        + "1400/04/16,k-x2,99-1400-000009,20000000,10000000077,\n"            # no such contract
        + "1400/04/17,k-x3,,5000000,0012345678,deposit_refund\n"             # exempt: not a statement's payment
        + "1400/04/18,k-x4,12-1400-000002,abc,10000000077,\n"                 # bad amount
        + "1400/13/01,k-x5,12-1400-000002,1000,10000000077,\n"                # no such month
        + "1400/04/19,k-x6,,1000,10000000077,\n"                              # no code, not exempt
        + "1400/04/19,k-x7,,1000,10000000077,petty\n",                        # unknown exemption
        encoding="utf-8")
    result = reconcile_statement(path, sessions=sessions, clock=clock)
    found = {(m.kind, m.payment_key, m.line) for m in result.mismatches}
    assert found == {
        ("amount_differs", "k-a2", 3),
        ("code_differs", "k-b1", 4),
        ("missing_in_system", "k-x1", 5),
        ("code_unknown", "k-x2", 6),
    }
    amount = next(m for m in result.mismatches if m.kind == "amount_differs")
    assert (amount.treasury_rial, amount.system_rial) == (100_000_001, 100_000_000)
    assert next(m for m in result.mismatches if m.kind == "code_unknown").reason is Reason.NO_CONTRACT_CODE
    assert [(b.line, b.reason) for b in result.bad_lines] == [
        (8, Reason.INVALID_INPUT), (9, Reason.INVALID_INPUT), (10, Reason.FIELD_MISSING), (11, Reason.INVALID_INPUT)]
    # The period is the file's readable lines': 1400/04/02 to 1400/04/17. The payments of 1400/04/20 and
    # of Ordibehesht fall outside it (the next test names a period that holds the former).
    summary = result.to_dict()
    assert (summary["from"], summary["to"], result.system_payments) == ("1400/04/02", "1400/04/17", 3)


def test_r29_an_explicit_period_and_a_duplicate_key(tmp_path, sessions, clock, paid):
    from domain.persian import parse_jalali_date

    path = tmp_path / "t.csv"
    path.write_text("تاریخ,کلید پرداخت,کد قرارداد,مبلغ,ذی‌نفع\n"  # Persian headers
                    "1400/04/02,k-a1,12-1400-000001,312750000,10000000077\n"
                    "1400/04/02,k-a1,12-1400-000001,312750000,10000000077\n", encoding="utf-8")
    result = reconcile_statement(path, sessions=sessions, clock=clock, first_day=parse_jalali_date("1400/04/01"),
                                 last_day=parse_jalali_date("1400/04/30"))
    kinds = sorted((m.kind, m.payment_key) for m in result.mismatches)
    assert kinds == [("duplicate_line", "k-a1"), ("missing_in_treasury", "k-a2"), ("missing_in_treasury", "k-b1"),
                     ("missing_in_treasury", "k-b2")]
    assert next(m for m in result.mismatches if m.kind == "duplicate_line").reason is Reason.DUPLICATE_PAYMENT


def test_r29_a_statement_without_a_mandatory_column_is_refused(tmp_path, sessions, clock):
    path = tmp_path / "t.csv"
    path.write_text("date,payment_key,amount_rial\n1400/04/02,k,1\n", encoding="utf-8")
    with pytest.raises(DomainError) as err:
        reconcile_statement(path, sessions=sessions, clock=clock)
    assert err.value.reason is Reason.FIELD_MISSING
    assert "contract_code" in err.value.detail and "payee" in err.value.detail
