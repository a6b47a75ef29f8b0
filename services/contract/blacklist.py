"""The blacklist consulted where the engine lets a contractor in (R25; issue 13 part 5): at submission
(services.tender.submission.submit_bid), at award (services.contract.award.award_for, when the contract
is opened from the final minutes) and at payment (services.contract.statements.request_payment).

The rule is domain.contract.blacklist.check_not_blacklisted; the entries come from the contractor
registry. In this deployment the registry is its stub on the application database (its `ext_reg_`
tables, created with the other outside systems' tables by eproc.wiring and the pilot), the same one
the transparency site's R25 lists are published from.
"""
from __future__ import annotations

import weakref
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine

from domain.contract.blacklist import check_not_blacklisted
from domain.persian import to_tehran
from domain.reasons import DomainError
from integrations.contractor_registry import ContractorRegistry
from integrations.stubs.contractor_registry import ContractorRegistryStub
from services.deps import Deps
from store.stub_tables import create_stub_tables
from store.uow import record_refusal

_REGISTRIES: weakref.WeakKeyDictionary[Engine, ContractorRegistryStub] = weakref.WeakKeyDictionary()


def contractor_registry(deps: Deps) -> ContractorRegistry:
    """The contractor registry wired into this process (`deps.contractors`, eproc.wiring), else its stub
    on the application database (rehearsal worlds; one per engine, its tables made once)."""
    if deps.contractors is not None:
        return deps.contractors
    engine: Engine = deps.sessions.kw["bind"]
    found = _REGISTRIES.get(engine)
    if found is None:
        create_stub_tables(engine)  # as eproc.wiring does at start; a no-op where they exist
        found = _REGISTRIES[engine] = ContractorRegistryStub(engine, deps.clock)
    return found


def tehran_day(at: datetime) -> date:
    """The calendar day in Tehran of an aware UTC time: the day a blacklist entry is read on."""
    return to_tehran(at).date()


def check_contractor_not_blacklisted(deps: Deps, company_id: str, on: datetime, subject: str = "") -> None:
    """Refuse a contractor (company national ID) on the contractor registry's blacklist on the Tehran
    day of `on` (aware UTC). Records nothing: for a caller that keeps its own refusals (the
    submission's `_judge`, whose refusals `_record_refused_submission` stores and audits).

    Raises: BLACKLISTED. Rule: R25 (domain.contract.blacklist.check_not_blacklisted)."""
    day = tehran_day(on)
    check_not_blacklisted(contractor_registry(deps).blacklist(day), company_id, day, subject)


def refuse_if_blacklisted(deps: Deps, company_id: str, on: datetime, *, action: str, entity: str,
                          entity_id: str, actor: str = "engine", payload: dict[str, Any] | None = None) -> None:
    """`check_contractor_not_blacklisted`, the refusal audited (`action`, `entity`/`entity_id`, reason
    BLACKLISTED, the company and the day in the payload) before it is raised.

    Raises: BLACKLISTED. Rule: R25."""
    try:
        check_contractor_not_blacklisted(deps, company_id, on, entity_id)
    except DomainError as exc:
        record_refusal(deps.sessions, exc, at=deps.clock.now(), actor=actor, action=action, entity=entity,
                       entity_id=entity_id, payload={"company_id": company_id, "on": tehran_day(on).isoformat(),
                                                     **(payload or {})})
        raise


__all__ = ["check_contractor_not_blacklisted", "contractor_registry", "refuse_if_blacklisted", "tehran_day"]
