"""R30: the financial system records receipts on income contracts against the contract code and
refuses one without a code or before `final`, as it refuses a payment; every refusal is kept."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from ext_factories import make_contract

from domain.reasons import DomainError, Reason
from integrations.financial import IncomeReceipts, ReceiptRequest
from integrations.stubs.financial import FinancialSystemStub

AT = datetime(2021, 9, 1, 6, 30, tzinfo=timezone.utc)


@pytest.fixture
def fin(engine, transactions, clock) -> FinancialSystemStub:
    transactions.put_contract(make_contract("I-1400-0002", amount_rial=5_000_000_000, nature="income"))
    transactions.put_contract(make_contract("I-1400-0003", stage="treasurer", nature="income"))
    return FinancialSystemStub(engine, transactions, clock)


def req(key: str, code: str, amount: int = 1_000_000_000) -> ReceiptRequest:
    return ReceiptRequest(receipt_key=key, contract_code=code, amount_rial=amount, received_at=AT)


@pytest.mark.parametrize(("code", "reason"), [("", Reason.NO_CONTRACT_CODE), ("  ", Reason.NO_CONTRACT_CODE),
                                              ("NOT-A-CODE", Reason.NO_CONTRACT_CODE),
                                              ("I-1400-0003", Reason.CONTRACT_NOT_FINAL)])
def test_r30_a_receipt_without_a_usable_code_is_refused_and_kept(fin, code, reason):
    assert isinstance(fin, IncomeReceipts)
    with pytest.raises(DomainError) as err:
        fin.record_receipt(req("k1", code))
    assert err.value.reason is reason
    assert fin.receipts() == []
    [refused] = fin.refused_attempts()
    assert (refused.kind, refused.reason, refused.request_key) == ("receipt", reason.value, "k1")


def test_r30_receipts_recorded_by_code_idempotent_and_never_above_the_contract(fin):
    first = fin.record_receipt(req("k1", "I-1400-0002", 3_000_000_000))
    assert fin.record_receipt(req("k1", "I-1400-0002", 3_000_000_000)) == first  # a retry
    with pytest.raises(DomainError) as err:
        fin.record_receipt(req("k1", "I-1400-0002", 1))  # the key reused for another receipt
    assert err.value.reason is Reason.INVALID_INPUT
    with pytest.raises(DomainError) as err:
        fin.record_receipt(req("k2", "I-1400-0002", 2_000_000_001))
    assert err.value.reason is Reason.INVALID_INPUT
    fin.record_receipt(req("k3", "I-1400-0002", 2_000_000_000))
    assert [r.amount_rial for r in fin.receipts("I-1400-0002")] == [3_000_000_000, 2_000_000_000]


def test_r30_an_expense_contract_takes_no_receipt(fin, transactions):
    transactions.put_contract(make_contract("C-1400-0009"))  # an expense contract (the default nature)
    with pytest.raises(DomainError) as err:
        fin.record_receipt(req("k9", "C-1400-0009"))
    assert err.value.reason is Reason.INVALID_INPUT and "هزینه‌ای" in err.value.detail
    assert fin.receipts() == []
