"""The contract part of the pilot report (filled by the contract flows; null where not reached)."""
from __future__ import annotations

from typing import Any


def contract_parts(world, tender_result: dict) -> dict[str, Any]:
    return {"contract": None, "status_statements": None, "payments": None, "publication": None}
