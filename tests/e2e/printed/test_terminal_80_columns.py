"""Issue 16 part 2: the terminal report of `eproc pilot` reads completely at 80 columns."""
from __future__ import annotations

import json

import pytest
from rich.cells import cell_len

from domain.persian import format_rial

pytestmark = pytest.mark.slow


def _amounts(value, key=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _amounts(v, k)
    elif isinstance(value, int) and not isinstance(value, bool) and key.endswith("_rial"):
        yield key, value


def test_every_amount_of_the_json_report_is_in_the_80_column_output_complete_and_grouped(rehearsal):
    report = json.loads((rehearsal.out / "report.json").read_text(encoding="utf-8"))
    text = rehearsal.terminal
    amounts = list(_amounts(report))
    assert len(amounts) >= 8  # estimate, prices, contract, statements
    for key, value in amounts:
        assert format_rial(value, persian=True) in text, (key, value)
    assert "…" not in text
    assert all(cell_len(line) <= 80 for line in text.splitlines()), max(text.splitlines(), key=cell_len)


def test_statuses_in_persian_with_reason_code_and_message_ids_as_typed(rehearsal):
    from domain.reasons import Reason

    report = json.loads((rehearsal.out / "report.json").read_text(encoding="utf-8"))
    text = rehearsal.terminal
    for word in ("accepted", "rejected", "returned_unopened", "approved", "refused", "paid"):
        assert word not in text
    for bidder, row in report["bids"].items():
        assert bidder in text  # b1, not b۱
        if row["reason"]:
            assert f"{row['reason']}: {Reason(row['reason']).message_fa}" in " ".join(text.split())
    assert "b۱" not in text
    assert "پذیرفته" in text and "عودت بدون بازگشایی" in text
