"""Domain objects to and from the JSON the store keeps (tender spec, commission, envelope content)."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from domain.money import to_decimal
from domain.tender.commission import Member
from domain.tender.model import EnvelopeA, EnvelopeB, EnvelopeC, Guarantee, TenderItem, TenderSpec
from sealing import content as sc


def _dt(v: str | None) -> datetime | None:
    return datetime.fromisoformat(v) if v else None


def spec_to_dict(spec: TenderSpec) -> dict[str, Any]:
    """A tender specification as JSON-able data (UTC ISO times, strings for decimals)."""
    return {
        "id": spec.id, "kind": spec.kind.value, "procedure": spec.procedure.value, "unit": spec.unit,
        "title": spec.title, "items": [[i.code, str(i.quantity)] for i in spec.items],
        "guarantee_rial": spec.guarantee_rial, "guarantee_valid_until": spec.guarantee_valid_until.isoformat(),
        "deadline": spec.deadline.isoformat(), "opening_at": spec.opening_at.isoformat(),
        "price_opening_at": spec.price_opening_at.isoformat() if spec.price_opening_at else None,
        "required_documents": sorted(spec.required_documents), "allowed_grades": sorted(spec.allowed_grades),
        "min_technical_score": str(spec.min_technical_score) if spec.min_technical_score is not None else None,
        "min_valid_bids": spec.min_valid_bids, "signing_days": spec.signing_days,
        "performance_guarantee_rate": str(spec.performance_guarantee_rate),
        "announce_at": spec.announce_at.isoformat() if spec.announce_at else None,
    }


def spec_from_dict(d: dict[str, Any]) -> TenderSpec:
    """The inverse of spec_to_dict."""
    return TenderSpec(
        id=d["id"], kind=d["kind"], procedure=d["procedure"], unit=d["unit"], title=d["title"],
        items=tuple(TenderItem(c, Decimal(q)) for c, q in d["items"]), guarantee_rial=d["guarantee_rial"],
        guarantee_valid_until=date.fromisoformat(d["guarantee_valid_until"]),
        deadline=datetime.fromisoformat(d["deadline"]), opening_at=datetime.fromisoformat(d["opening_at"]),
        price_opening_at=_dt(d["price_opening_at"]),
        required_documents=frozenset(d["required_documents"]), allowed_grades=frozenset(d["allowed_grades"]),
        min_technical_score=Decimal(d["min_technical_score"]) if d["min_technical_score"] is not None else None,
        min_valid_bids=d["min_valid_bids"], signing_days=d["signing_days"],
        performance_guarantee_rate=Decimal(d["performance_guarantee_rate"]), announce_at=_dt(d["announce_at"]))


def members_to_list(members: list[Member]) -> list[dict[str, Any]]:
    """The commission as JSON-able data."""
    return [{"id": m.id, "role": m.role.value, "national_id": m.national_id, "alternate_for": m.alternate_for,
             "name": m.name} for m in members]


def members_from_list(items: list[dict[str, Any]]) -> list[Member]:
    """The inverse of members_to_list."""
    return [Member(**i) for i in items]


def dumps(data: Any) -> str:
    """Canonical JSON (sorted keys, UTF-8 text) of stored data."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# --- envelope content: the sealed JSON (sealing.content) <-> the domain's envelope records ------
def envelope_a(model: sc.EnvelopeA) -> EnvelopeA:
    """Envelope A content as the domain sees it."""
    g = model.guarantee
    return EnvelopeA(Guarantee(g.amount_rial, g.valid_until_date) if g is not None else None)


def envelope_b(model: sc.EnvelopeB) -> EnvelopeB:
    """Envelope B content as the domain sees it."""
    score = model.technical_score
    return EnvelopeB(frozenset(model.documents), model.grade, to_decimal(score) if score is not None else None)


def envelope_c(model: sc.EnvelopeC) -> EnvelopeC:
    """Envelope C content as the domain sees it."""
    coefficient = model.coefficient_decimal
    return EnvelopeC(coefficient=coefficient) if coefficient is not None else EnvelopeC(amount_rial=model.amount_rial)


def to_domain(letter: str, model: Any) -> Any:
    """The decrypted content of envelope `letter` (A, B or C) as the domain's envelope."""
    converters: dict[str, Callable[[Any], Any]] = {"A": envelope_a, "B": envelope_b, "C": envelope_c}
    return converters[letter](model)
