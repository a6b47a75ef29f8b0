"""R08: an envelope whose decrypted content breaks the content rules excludes that bid at that
envelope with its reason code; the session goes on for the others."""
from __future__ import annotations

import pytest

from domain.reasons import DomainError, Reason
from domain.tender import evaluation as ev
from domain.tender.model import BidRecord, Letter


def test_r08_a_content_refusal_is_an_exclusion_not_a_stopped_session():
    from datetime import datetime, timezone

    bid = BidRecord("b1", datetime(2021, 6, 26, tzinfo=timezone.utc))
    out = ev.excluded(bid, Letter.C, DomainError(Reason.AMOUNT_OUT_OF_RANGE, "ضریب"))
    assert out.invalid == (Letter.C, Reason.AMOUNT_OUT_OF_RANGE)
    assert ev.excluded(bid, Letter.A, DomainError(Reason.ENVELOPE_TAMPERED)).tampered is Letter.A
    with pytest.raises(DomainError) as err:
        ev.excluded(bid, Letter.B, DomainError(Reason.TOKEN_NOT_FOUND))
    assert err.value.reason is Reason.TOKEN_NOT_FOUND  # anything else still stops the session
