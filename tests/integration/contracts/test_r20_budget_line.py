"""R20: payments carry the contract's budget line and expense factor; both are mandatory."""
from __future__ import annotations

import pytest

from domain.contract.payment import payment_key
from domain.reasons import DomainError, Reason
from integrations.financial import PaymentRequest
from services.transactions_view import statement_key


def test_r20_paid_records_carry_budget_line_and_expense_factor(district12):
    contract = district12.world.scenario.contract
    paid = district12.world.stubs["financial"].payments()
    assert [(p.budget_line, p.expense_factor) for p in paid] == [(contract.budget_line, contract.expense_factor)]


@pytest.mark.parametrize("blank, reason", [("budget_line", Reason.BUDGET_LINE_MISSING),
                                           ("expense_factor", Reason.EXPENSE_FACTOR_MISSING)])
def test_r20_payment_without_budget_line_or_expense_factor_is_refused(district12, blank, reason):
    world = district12.world
    with world.deps.uow() as uow:
        contract = uow.contracts.for_tender(district12.tender_id)
        s2 = uow.statements.by_ref(contract.id, "s2")
    key = statement_key(contract.tracking_number, "s2")
    fields = {"budget_line": contract.budget_line, "expense_factor": contract.expense_factor, blank: ""}
    with pytest.raises(DomainError) as err:
        world.stubs["financial"].pay(PaymentRequest(
            payment_key=payment_key(contract.code, key) + blank, contract_code=contract.code, statement_id=key,
            budget_line=fields["budget_line"], expense_factor=fields["expense_factor"],
            amount_rial=s2.payable_rial))
    assert err.value.reason is reason
