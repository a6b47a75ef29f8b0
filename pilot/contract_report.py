"""The contract part of the pilot report (scenario-format.md), read from the store and the
outside systems' own records; keys the scenario does not reach are present with null values."""
from __future__ import annotations

import json
from typing import Any

NULLS = {"contract": None, "status_statements": None, "payments": None, "publication": None}


def contract_parts(world, tender_result: dict) -> dict[str, Any]:
    tender_id = world.scenario.scenario.name
    with world.deps.uow() as uow:
        row = uow.contracts.for_tender(tender_id)
        if row is None:
            return dict(NULLS)
        statements = list(uow.statements.for_contract(row.id))
        ids = [s.id for s in statements]
        payments = list(uow.payments.for_statements(ids))
    data = json.loads(row.data_json or "{}")
    out: dict[str, Any] = dict(NULLS)
    out["contract"] = {"code": row.code, "status": row.stage, "amount_rial": row.amount_rial,
                       "bidder": data.get("bidder")}
    settled = [s for s in statements if s.result in ("approved", "halted", "refused")]
    if settled:
        out["status_statements"] = {s.ref: {"result": s.result,
                                            "payable_rial": s.payable_rial if s.result == "approved" else None,
                                            "reason": s.reason} for s in settled}
    if payments:
        out["payments"] = {p.ref: {"result": p.result, "reason": p.reason} for p in payments}
    publication = data.get("publication")
    if publication is not None:
        out["publication"] = {"ocds_valid": _ocds_valid(world, publication.get("release_id")),
                              "missing_fields": list(publication.get("missing_fields") or [])}
    return out


def _ocds_valid(world, release_id: str | None) -> bool:
    """The published release, as the transparency site stored it, checked against the official schema."""
    from integrations import ocds

    if release_id is None:
        return False
    publisher = world.stubs.get("publisher")
    if publisher is None:
        from integrations.stubs.transparency import TransparencyPublisherStub

        publisher = TransparencyPublisherStub(  # reads the site's stored releases
            world.engine, world.clock, publication_cutoff=world.policy.publication.cutoff,
            publisher_name=world.policy.publication.publisher)
    release = next((r for r in publisher.releases() if r.get("id") == release_id), None)
    if release is None:
        return False
    package = ocds.release_package([release], world.clock.now(), world.policy.publication.publisher)
    return not ocds.package_errors(package)


def income_report(world, report: dict[str, Any]) -> dict[str, Any]:
    """`report` with the income contract's parts (R30; scenario-format.md "More transaction kinds"):
    `contract` gains `nature` and `type`, `receipts` each receipt's result, reason and the schedule
    lines it settled, `schedule` the contract's schedule as of the world's clock (each line's due day,
    amount, received, state: paid | paid_late | short | open). Keys the scenario does not reach are null."""
    from domain.persian import to_tehran
    from services.contract import receipts as receipts_svc
    from services.contract.income import contract_type_of, nature_of

    tender_id = world.scenario.scenario.name
    out = dict(report)
    with world.deps.uow() as uow:
        row = uow.contracts.for_tender(tender_id)
    if row is not None and out.get("contract") is not None:
        data = json.loads(row.data_json or "{}")
        out["contract"] = {**out["contract"], "nature": nature_of(data), "type": contract_type_of(data)}
    out["receipts"] = receipts_svc.receipts_report(world.deps, tender_id)
    out["schedule"] = receipts_svc.schedule_report(world.deps, tender_id, to_tehran(world.clock.now()).date())
    order = [k for k in out if k != "publication"]
    for key in ("receipts", "schedule"):
        order.remove(key)
    at = order.index("payments") + 1 if "payments" in order else len(order)
    order[at:at] = ["receipts", "schedule"]
    return {k: out.get(k) for k in [*order, "publication"]}
