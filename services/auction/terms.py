"""Registering an online auction on an announced tender (issue 14 part 1; tender-rules.md
`online_auction`): the unit's contracts officer sends a signed AuctionRequest (window, optional
increment); the engine fixes the terms with the base price = the tender's estimate and the policy's
extension rules as they are now, so a later policy change never alters a running auction."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from domain.auction.documents import read_auction_request
from domain.auction.rules import AuctionTerms, terms_of
from domain.reasons import DomainError, Reason
from domain.tender import evaluation as ev
from domain.tender.model import Kind
from services import codec
from services.auth import VerifiedDocument
from services.deps import Deps
from services.tender.view import load
from store import models as m


def _to_json(terms: AuctionTerms, request_sha256: str) -> str:
    return codec.dumps({"base_rial": terms.base_rial, "min_increment_rial": terms.min_increment_rial,
                        "opens_at": terms.opens_at.isoformat(), "closes_at": terms.closes_at.isoformat(),
                        "extend_within_seconds": int(terms.extend_within.total_seconds()),
                        "extend_by_seconds": int(terms.extend_by.total_seconds()),
                        "max_extensions": terms.max_extensions, "request_sha256": request_sha256})


def _from_row(row: m.Auction) -> AuctionTerms:
    d = json.loads(row.terms_json)
    return AuctionTerms(row.tender_id, int(d["base_rial"]), int(d["min_increment_rial"]),
                        datetime.fromisoformat(d["opens_at"]), datetime.fromisoformat(d["closes_at"]),
                        timedelta(seconds=int(d["extend_within_seconds"])),
                        timedelta(seconds=int(d["extend_by_seconds"])), int(d["max_extensions"]))


def register_auction(deps: Deps, doc: VerifiedDocument) -> AuctionTerms:
    """Register the online auction of the contracts officer's signed AuctionRequest `doc` (verified at
    receipt as OPERATOR_ROLE@unit): the tender must be announced, of kind auction, in the officer's
    unit; the window must open after now and close, extensions included (`latest_close`), by the
    tender's deadline. Base price: the tender's estimate (rials); increment: the request's, else the
    policy's rate of the base price rounded up. The same request again returns the same terms.

    Raises: MALFORMED_XML; INVALID_INPUT (unknown tender, not an auction, a window in the past or
    past the deadline, another unit); WRONG_STAGE (registered already with other terms); NOT_AUTHORISED.
    Rule: tender-rules.md `online_auction`; issue 14 part 1."""
    req = read_auction_request(doc.root)
    if req.unit != doc.unit:
        raise DomainError(Reason.NOT_AUTHORISED, f"نشست در واحد {doc.unit} است و حراج از آنِ {req.unit}")
    with deps.uow() as uow:
        existing = uow.auctions.get(req.tender_id)
        announced = uow.tenders.get(req.tender_id) is not None
    if existing is not None:
        if json.loads(existing.terms_json).get("request_sha256") == doc.sha256:
            return _from_row(existing)
        raise DomainError(Reason.WRONG_STAGE, f"حراج «{req.tender_id}» پیش‌تر ثبت شده است")
    if not announced:
        raise DomainError(Reason.INVALID_INPUT, f"آگهی مزایدهٔ «{req.tender_id}» هنوز منتشر نشده است")
    view = load(deps, req.tender_id)
    spec = view.spec
    if spec.kind is not Kind.AUCTION or spec.unit != req.unit:
        raise DomainError(Reason.INVALID_INPUT, "حراج فقط بر مزایدهٔ منتشرشدهٔ همان واحد ثبت می‌شود")
    estimate = ev.compute_estimate(spec, view.price_list, view.formulas["estimate"]).total_rial
    terms = terms_of(req.tender_id, estimate, req.opens_at, req.closes_at, deps.policy.online_auction_rules(),
                     req.min_increment_rial)
    if terms.opens_at < doc.received_at:
        raise DomainError(Reason.INVALID_INPUT, "آغاز حراج گذشته است")
    if terms.latest_close > spec.deadline:
        raise DomainError(Reason.INVALID_INPUT, "پایان حراج با همهٔ تمدیدها از مهلت آگهی‌شده دیرتر است")
    with deps.uow() as uow:
        uow.auctions.add(m.Auction(tender_id=req.tender_id, terms_json=_to_json(terms, doc.sha256),
                                   request_xml=doc.xml, registered_by=doc.national_id,
                                   registered_at=doc.received_at))
        uow.record(at=doc.received_at, actor=doc.national_id, action="auction.registered", entity="tender",
                   entity_id=req.tender_id,
                   payload={"base_rial": terms.base_rial, "min_increment_rial": terms.min_increment_rial,
                            "opens_at": terms.opens_at.isoformat(), "closes_at": terms.closes_at.isoformat(),
                            "max_extensions": terms.max_extensions, "request_sha256": doc.sha256})
        uow.commit()
    return terms


def is_online_auction(deps: Deps, tender_id: str) -> bool:
    """Whether an online auction's window is registered on the tender `tender_id` (its run is then the
    online auction's flow, not the sealed-bid opening). Raises nothing."""
    with deps.uow() as uow:
        return uow.auctions.get(tender_id) is not None


def load_terms(deps: Deps, tender_id: str) -> AuctionTerms:
    """The registered terms of the online auction `tender_id`.

    Raises: NOT_FOUND (no online auction registered under that id)."""
    with deps.uow() as uow:
        row = uow.auctions.get(tender_id)
    if row is None:
        raise DomainError(Reason.NOT_FOUND, f"حراج «{tender_id}»")
    return _from_row(row)
