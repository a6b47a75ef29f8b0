"""A tender as the store holds it: its specification, commission, approved price list and formulas,
and the opening-key plan, loaded in one read."""
from __future__ import annotations

import json
from dataclasses import dataclass

from domain.formulas import Formula
from domain.reasons import DomainError, Reason
from domain.tender.commission import Member
from domain.tender.model import PriceList, PriceListItem, TenderSpec
from sealing.opening_key import OpeningKeyPlan
from services import codec
from services.deps import Deps
from store import models as m

ENGINE_ACTOR = "engine"


@dataclass(frozen=True)
class TenderView:
    """A tender as stored: specification, commission, approved price list and formulas, opening-key plan
    (public material only) and stored status."""

    spec: TenderSpec
    members: list[Member]
    price_list: PriceList
    formulas: dict[str, Formula]
    plan: OpeningKeyPlan
    status: str


def load(deps: Deps, tender_id: str) -> TenderView:
    """Load the tender `tender_id` in one read.

    Raises: INVALID_INPUT for an unknown tender, or one whose price list, formulas or opening-key
    plan are not in the store."""
    with deps.uow() as uow:
        row = uow.tenders.get(tender_id)
        if row is None:
            raise DomainError(Reason.INVALID_INPUT, f"مناقصهٔ «{tender_id}» ثبت نشده است")
        data = json.loads(row.spec_json)
        list_id, list_version = data["price_list"]["list_id"], data["price_list"]["version"]
        pl_row = uow.price_lists.get(list_id, list_version)
        if pl_row is None:
            raise DomainError(Reason.INVALID_INPUT, f"فهرست بهای {list_id} نسخهٔ {list_version} ثبت نشده است")
        price_list = price_list_of(pl_row)
        formulas = {}
        for name, (fid, version) in data["formulas"].items():
            f = uow.formulas.get(fid, version)
            if f is None:
                raise DomainError(Reason.INVALID_INPUT, f"فرمول {fid} نسخهٔ {version} ثبت نشده است")
            formulas[name] = Formula(f.formula_id, f.version, f.expression, f.approved_by, f.approved_at,
                                     f.technical_council_ref)
        if row.opening_plan_json is None:
            raise DomainError(Reason.INVALID_INPUT, f"طرح کلید بازگشایی مناقصهٔ «{tender_id}» ثبت نشده است")
        return TenderView(codec.spec_from_dict(data["spec"]), codec.members_from_list(data["commission"]),
                          price_list, formulas, OpeningKeyPlan.from_json(row.opening_plan_json), row.status)


def price_list_of(row: m.PriceList) -> PriceList:
    """The approved price-list version as the domain sees it (read inside the unit of work)."""
    return PriceList(id=row.list_id, version=row.version,
                     items={i.code: PriceListItem(i.code, i.unit, i.unit_price) for i in row.items},
                     approved_by=row.approved_by, approved_at=row.approved_at)

