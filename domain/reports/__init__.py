"""Pure rules of the completeness checks (R31) and of the Treasury reconciliation (R29)."""
