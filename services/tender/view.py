"""A tender as the store holds it: its specification, commission, approved price list and formulas,
and the opening-key plan, loaded in one read and checked against what was recorded when it was
announced."""
from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import sessionmaker

from domain.formulas import Formula
from domain.reasons import DomainError, Reason
from domain.tender.commission import Member
from domain.tender.model import PriceList, PriceListItem, TenderSpec
from sealing.opening_key import OpeningSeats
from services import codec
from services.deps import Deps
from store import models as m
from store.uow import UnitOfWork

ENGINE_ACTOR = "engine"
ANNOUNCED = "tender.announced"  # the audit action whose first entry holds the tender's digests


@dataclass(frozen=True)
class TenderView:
    """A tender as stored: specification, commission, approved price list and formulas, the seats of its
    bids' opening keys with the certificates parts are wrapped to (public material only), and stored status."""

    spec: TenderSpec
    members: list[Member]
    price_list: PriceList
    formulas: dict[str, Formula]
    seats: OpeningSeats
    status: str


def load(deps: Deps, tender_id: str, *, verified: bool = True) -> TenderView:
    """Load the tender `tender_id` in one read.

    With `verified` (the default, for every read that feeds a decision: opening, minutes,
    notification, contract award), the stored specification JSON, opening-key plan JSON, price-list
    items and formulas are hashed again and compared with the digests of the FIRST `tender.announced`
    audit entry of that tender (an insider can append later entries, not rewrite the first one
    unnoticed). Pilot stage: a tender announced before those digests were recorded has none and is
    refused too. Rule: R08 ("Stations and trust"; issue 10, class 3).

    Raises: INVALID_INPUT for an unknown tender, or one whose price list, formulas or opening-key
    plan are not in the store; STORE_TAMPERED when what is stored differs from what was recorded at
    announcement, or no digests were recorded."""
    with deps.uow() as uow:
        row = uow.tenders.get(tender_id)
        if row is None:
            raise DomainError(Reason.INVALID_INPUT, f"مناقصهٔ «{tender_id}» ثبت نشده است")
        recorded = _recorded_digests(uow, tender_id) if verified else None
        if recorded is not None:
            _compare(recorded, "spec_sha256", _sha256(row.spec_json),
                     f"مشخصات ذخیره‌شدهٔ مناقصهٔ «{tender_id}» (spec_json)")
            _compare(recorded, "opening_plan_sha256", _sha256(row.opening_plan_json or ""),
                     f"طرح کلید بازگشایی ذخیره‌شدهٔ مناقصهٔ «{tender_id}»")
        data = json.loads(row.spec_json)
        list_id, list_version = data["price_list"]["list_id"], data["price_list"]["version"]
        pl_row, formula_rows = _price_list_and_formulas(uow, data)
        if recorded is not None:
            _compare(recorded, "price_list_sha256", price_list_sha256(pl_row),
                     f"اقلام فهرست بهای {list_id} نسخهٔ {list_version}")
            expected = recorded.get("formulas_sha256")
            if not isinstance(expected, dict) or set(expected) != set(formula_rows):
                raise DomainError(Reason.STORE_TAMPERED, f"فهرست فرمول‌های مناقصهٔ «{tender_id}» با گزارش ممیزی "
                                                         "اعلام آن نمی‌خواند")
            for name, f in formula_rows.items():
                _compare(expected, name, formula_sha256(f), f"فرمول «{name}» ({f.formula_id} نسخهٔ {f.version})")
        price_list = price_list_of(pl_row)
        formulas = {name: Formula(f.formula_id, f.version, f.expression, f.approved_by, f.approved_at,
                                  f.technical_council_ref) for name, f in formula_rows.items()}
        if row.opening_plan_json is None:
            raise DomainError(Reason.INVALID_INPUT, f"طرح کلید بازگشایی مناقصهٔ «{tender_id}» ثبت نشده است")
        return TenderView(codec.spec_from_dict(data["spec"]), codec.members_from_list(data["commission"]),
                          price_list, formulas, OpeningSeats.from_json(row.opening_plan_json), row.status)


@dataclass(frozen=True)
class BidTerms:
    """What receiving a bid needs of a tender: its specification (deadline, title) and the seats of
    its bids' opening keys."""

    spec: TenderSpec
    seats: OpeningSeats


# Per store: tender id -> the digests of its first `tender.announced` entry. That entry is append-only
# and never changes legitimately: keeping what was read first can only make a later rewrite of it
# (which the published checkpoints expose) ineffective here, never hide a rewrite of the tender row.
_RECORDED: weakref.WeakKeyDictionary[sessionmaker, dict[str, dict[str, Any]]] = weakref.WeakKeyDictionary()
# (SHA-256 of the spec JSON, SHA-256 of the opening-plan JSON) -> parsed terms: content-addressed, so
# a changed row is parsed afresh (and first refused unless it matches the announced digests).
_PARSED: OrderedDict[tuple[str, str], BidTerms] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_PARSED_MAX = 64


def load_bid_terms(deps: Deps, tender_id: str, uow: UnitOfWork | None = None) -> BidTerms:
    """The specification and opening seats of tender `tender_id` for receiving a bid (R07, R08), in
    one short read per call (in `uow` when given, else a unit of work of its own): the stored tender
    row is read and its spec JSON and opening-key plan JSON are hashed and compared with the digests
    of the FIRST `tender.announced` audit entry, as `load` does; the price list and formulas, which a
    submission does not use, are left to `load` at the decisions that use them (opening, evaluation).
    Parsing is reused while the stored JSON is the same.

    Raises: INVALID_INPUT for an unknown tender or one without an opening-key plan; STORE_TAMPERED when
    the stored spec or plan differs from what was recorded at announcement, or no digests were recorded."""
    if uow is None:
        with deps.uow() as own:
            return load_bid_terms(deps, tender_id, own)
    row = uow.tenders.get(tender_id)
    if row is None:
        raise DomainError(Reason.INVALID_INPUT, f"مناقصهٔ «{tender_id}» ثبت نشده است")
    spec_json, plan_json = row.spec_json, row.opening_plan_json
    with _CACHE_LOCK:
        recorded = _RECORDED.get(deps.sessions, {}).get(tender_id)
    if recorded is None:
        recorded = _recorded_digests(uow, tender_id)
        with _CACHE_LOCK:
            _RECORDED.setdefault(deps.sessions, {})[tender_id] = recorded
    spec_sha, plan_sha = _sha256(spec_json), _sha256(plan_json or "")
    _compare(recorded, "spec_sha256", spec_sha, f"مشخصات ذخیره‌شدهٔ مناقصهٔ «{tender_id}» (spec_json)")
    _compare(recorded, "opening_plan_sha256", plan_sha, f"طرح کلید بازگشایی ذخیره‌شدهٔ مناقصهٔ «{tender_id}»")
    if plan_json is None:
        raise DomainError(Reason.INVALID_INPUT, f"طرح کلید بازگشایی مناقصهٔ «{tender_id}» ثبت نشده است")
    key = (spec_sha, plan_sha)
    with _CACHE_LOCK:
        terms = _PARSED.get(key)
        if terms is not None:
            _PARSED.move_to_end(key)
            return terms
    terms = BidTerms(codec.spec_from_dict(json.loads(spec_json)["spec"]), OpeningSeats.from_json(plan_json))
    with _CACHE_LOCK:
        _PARSED[key] = terms
        while len(_PARSED) > _PARSED_MAX:
            _PARSED.popitem(last=False)
    return terms


def announced_digests(uow: UnitOfWork, row: m.Tender) -> dict[str, Any]:
    """The digests recorded in the `tender.announced` audit payload, read inside the announcing unit
    of work from the tender row `row` as it will be stored: SHA-256 (hex) of the spec JSON and of the
    opening-key plan JSON (UTF-8, as stored), of the price-list version's items (price_list_sha256)
    and of each formula by name (formulas_sha256). Rule: R08 (issue 10, class 3).

    Raises: INVALID_INPUT when the price list or a formula the spec names is not in the store."""
    pl_row, formula_rows = _price_list_and_formulas(uow, json.loads(row.spec_json))
    return {"spec_sha256": _sha256(row.spec_json), "opening_plan_sha256": _sha256(row.opening_plan_json or ""),
            "price_list_sha256": price_list_sha256(pl_row),
            "formulas_sha256": {name: formula_sha256(f) for name, f in sorted(formula_rows.items())}}


def price_list_sha256(row: m.PriceList) -> str:
    """SHA-256 (hex) of a price-list version's items, canonically: the JSON list of
    [code, unit, unit price in rials] sorted by code (services.codec.dumps, UTF-8)."""
    items = sorted([i.code, i.unit, int(i.unit_price)] for i in row.items)
    return _sha256(codec.dumps(items))


def formula_sha256(row: m.FormulaRow) -> str:
    """SHA-256 (hex) of a formula's [id, version, expression] (services.codec.dumps, UTF-8)."""
    return _sha256(codec.dumps([row.formula_id, int(row.version), row.expression]))


def price_list_of(row: m.PriceList) -> PriceList:
    """The approved price-list version as the domain sees it (read inside the unit of work)."""
    return PriceList(id=row.list_id, version=row.version,
                     items={i.code: PriceListItem(i.code, i.unit, i.unit_price) for i in row.items},
                     approved_by=row.approved_by, approved_at=row.approved_at)


def _price_list_and_formulas(uow: UnitOfWork, data: dict[str, Any]) -> tuple[m.PriceList, dict[str, m.FormulaRow]]:
    list_id, list_version = data["price_list"]["list_id"], data["price_list"]["version"]
    pl_row = uow.price_lists.get(list_id, list_version)
    if pl_row is None:
        raise DomainError(Reason.INVALID_INPUT, f"فهرست بهای {list_id} نسخهٔ {list_version} ثبت نشده است")
    formulas: dict[str, m.FormulaRow] = {}
    for name, (fid, version) in data["formulas"].items():
        f = uow.formulas.get(fid, version)
        if f is None:
            raise DomainError(Reason.INVALID_INPUT, f"فرمول {fid} نسخهٔ {version} ثبت نشده است")
        formulas[name] = f
    return pl_row, formulas


def _recorded_digests(uow: UnitOfWork, tender_id: str) -> dict[str, Any]:
    entry = uow.audit.first(ANNOUNCED, tender_id)
    payload = json.loads(entry.payload_json) if entry is not None and entry.payload_json else {}
    if not isinstance(payload, dict) or "spec_sha256" not in payload:
        raise DomainError(Reason.STORE_TAMPERED, f"گزارش ممیزی اعلام مناقصهٔ «{tender_id}» چکیدهٔ داده‌های آن را "
                                                 "ندارد (مناقصهٔ اعلام‌شده پیش از ثبت چکیده‌ها)")
    return payload


def _compare(recorded: dict[str, Any], key: str, actual: str, what: str) -> None:
    if recorded.get(key) != actual:
        raise DomainError(Reason.STORE_TAMPERED, f"{what} با چکیدهٔ ثبت‌شده در گزارش ممیزی اعلام آن نمی‌خواند")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
