"""Helpers for the tender-rule tests: scenario TOML to domain values, and small builders."""
from __future__ import annotations

import tomllib
from datetime import date, datetime, timedelta, timezone

from config.policy import load_policy
from config.settings import BUNDLED_POLICY
from domain.persian import parse_jalali_date, parse_jalali_datetime
from domain.tender.commission import Member
from domain.tender.evaluation import PriceRules
from domain.tender.model import (
    BidRecord,
    EnvelopeA,
    EnvelopeB,
    EnvelopeC,
    Guarantee,
    PriceList,
    PriceListItem,
    TenderSpec,
)
from pilot.scenario import BUNDLED as SCENARIOS  # the scenarios shipped with the engine

# Every default comes from the bundled policy, as production takes it: nothing is repeated here.
POLICY = load_policy(BUNDLED_POLICY)
DEFAULTS = POLICY.defaults
FORMULAS = {name: POLICY.formula(name).to_formula() for name in ("estimate", "abnormally-low", "guarantee")}
PRICE_RULES: PriceRules = POLICY.price_rules(FORMULAS["abnormally-low"])


def load_scenario(name: str) -> dict:
    with open(SCENARIOS / name, "rb") as fh:
        return tomllib.load(fh)


def price_list_of(data: dict) -> PriceList:
    pl = data["price_list"]
    return PriceList(pl["id"], pl.get("version", 1),
                     {i["code"]: PriceListItem(i["code"], i["unit"], i["unit_price"]) for i in pl["items"]})


def spec_of(data: dict) -> TenderSpec:
    t = data["tender"]
    return TenderSpec(
        id=data["scenario"]["name"], kind=t["kind"], procedure=t["procedure"], unit=t["unit"], title=t["title"],
        items=tuple((i["code"], i["quantity"]) for i in t["items"]), guarantee_rial=t["guarantee_rial"],
        guarantee_valid_until=parse_jalali_date(t["guarantee_valid_until"]),
        deadline=parse_jalali_datetime(t["deadline"]), opening_at=parse_jalali_datetime(t["opening_at"]),
        price_opening_at=parse_jalali_datetime(t["price_opening_at"]) if "price_opening_at" in t else None,
        required_documents=frozenset(t["required_documents"]), allowed_grades=frozenset(t["allowed_grades"]),
        min_technical_score=t.get("min_technical_score"), min_valid_bids=t.get("min_valid_bids", DEFAULTS.min_valid_bids),
        signing_days=t.get("signing_days", DEFAULTS.signing_days),
        performance_guarantee_rate=DEFAULTS.performance_guarantee_rate, announce_at=parse_jalali_datetime(t["announce_at"]))


def bid_of(b: dict) -> BidRecord:
    g = b.get("guarantee")
    guarantee = Guarantee(g["amount_rial"], parse_jalali_date(g["valid_until"])) if g else None
    price = b["price"]
    c = EnvelopeC(coefficient=str(price["coefficient"])) if "coefficient" in price else EnvelopeC(
        amount_rial=price["amount_rial"])
    return BidRecord(b["id"], parse_jalali_datetime(b["submit_at"]), a=EnvelopeA(guarantee),
                     b=EnvelopeB(frozenset(b["documents"]), b["grade"], b.get("technical_score")), c=c)


def members_of(data: dict) -> list[Member]:
    return [Member(m["id"], m["role"], m["national_id"], m.get("alternate_for"), m.get("name", ""))
            for m in data["commission"]]


# --- synthetic tenders -----------------------------------------------------------------------

T0 = datetime(2021, 7, 1, 6, 30, tzinfo=timezone.utc)


def make_spec(kind: str = "tender", procedure: str = "one_stage", guarantee_rial: int = 1_000,
              min_valid_bids: int = DEFAULTS.min_valid_bids, items=(("X1", 10),), **extra) -> TenderSpec:
    extra.setdefault("signing_days", DEFAULTS.signing_days)
    extra.setdefault("performance_guarantee_rate", DEFAULTS.performance_guarantee_rate)
    return TenderSpec(
        id="T-1", kind=kind, procedure=procedure, unit="district-12", title="آزمون", items=items,
        guarantee_rial=guarantee_rial, guarantee_valid_until=date(2021, 10, 1),
        deadline=T0, opening_at=T0 + timedelta(days=1),
        price_opening_at=T0 + timedelta(days=5) if procedure == "two_stage" else None,
        required_documents=frozenset({"articles", "grade_certificate"}), allowed_grades=frozenset({1, 2, 3}),
        min_technical_score=60 if procedure == "two_stage" else None, min_valid_bids=min_valid_bids, **extra)


def make_bid(bidder: str, *, minutes_before: int = 60, amount: int | None = None, coefficient: str | None = None,
             guarantee: int | None = 1_000, valid_until: date = date(2021, 10, 1), documents=("articles", "grade_certificate"),
             grade: int = 2, score=None, **extra) -> BidRecord:
    c = EnvelopeC(coefficient=coefficient) if coefficient is not None else EnvelopeC(amount_rial=amount)
    return BidRecord(bidder, T0 - timedelta(minutes=minutes_before),
                     a=EnvelopeA(Guarantee(guarantee, valid_until) if guarantee is not None else None),
                     b=EnvelopeB(frozenset(documents), grade, score), c=c, **extra)
