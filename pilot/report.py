"""The pilot report (scenario-format.md): a public interface, derived from what the store holds."""
from __future__ import annotations

import json
from typing import Any

from domain.xmlsafe import parse_untrusted
from signing.xmldsig import signed_document_root

NS = "{urn:tehran:eproc:minutes:1}"


def _bids_from_minutes(xml: bytes) -> dict[str, dict[str, Any]]:
    body = signed_document_root(parse_untrusted(xml)).find(f"{NS}Body")
    out: dict[str, dict[str, Any]] = {}
    for bid in body.find(f"{NS}Bids"):
        env = {e.get("letter"): e.get("status") for e in bid.findall(f"{NS}Envelope")}
        out[bid.get("bidder")] = {"A": env.get("A"), "B": env.get("B"), "C": env.get("C"),
                                  "price_rial": int(bid.get("price_rial")) if bid.get("price_rial") else None,
                                  "rank": int(bid.get("rank")) if bid.get("rank") else None,
                                  "reason": bid.get("reason")}
    return out


def build(world, tender_result: dict) -> dict[str, Any]:
    from pilot.scenario import tender_id_of

    deps = world.deps
    tender_id = tender_id_of(world.scenario)
    report: dict[str, Any] = {"scenario": world.scenario.scenario.name}
    with deps.uow() as uow:
        t = uow.tenders.get(tender_id)
        a13 = uow.minutes.latest(tender_id, "article13")
        a18 = list(uow.minutes.all_for(tender_id, "article18"))
        bids_rows = list(uow.bids.all_for(tender_id))
    status = tender_result.get("status")
    report["tender"] = {"status": status, "reason": tender_result.get("reason"),
                        "estimate_rial": t.estimate_rial if t else None}
    if a13 is not None and a13.final:
        bids = _bids_from_minutes(a13.xml)
        from services.tender import final_minutes

        _, award, signers = final_minutes(deps, tender_id)
        report["winner"], report["runner_up"] = award.winner, award.runner_up
        report["minutes"] = {"article13": {"final": True, "signers": signers,
                                           "verified_with": _outside_verification(world, a13.xml)}}
    else:
        bids = {}
        for b in bids_rows:
            if b.refused_reason:
                bids[b.bidder_ref] = {"A": "rejected", "B": "not_submitted", "C": "not_submitted",
                                      "price_rial": None, "rank": None, "reason": b.refused_reason}
            elif not b.superseded:
                bids.setdefault(b.bidder_ref, {"A": None, "B": None, "C": None, "price_rial": None,
                                               "rank": None, "reason": None})
        report["winner"] = report["runner_up"] = None
        report["minutes"] = {"article13": None, "article18": None}
    for bidder in tender_result.get("forfeited") or []:
        if bidder in bids:
            bids[bidder]["reason"] = "GUARANTEE_FORFEITED"
    report["bids"] = dict(sorted(bids.items()))
    if a18:
        last = a18[-1]
        from signing.xmldsig import signatures

        doc = parse_untrusted(last.xml)
        notified = signed_document_root(doc).find("{urn:tehran:eproc:notification:1}Body") \
            .find("{urn:tehran:eproc:notification:1}Bidder").get("id")
        chair_ids = [mm.id for mm in world.scenario.commission
                     if f"{mm.role}@{world.unit}" in {s.signer_ref for s in signatures(doc)}]
        report["minutes"]["article18"] = {"final": bool(last.final), "signers": chair_ids, "notified": notified}
    elif "article18" not in report["minutes"]:
        report["minutes"]["article18"] = None
    from pilot.contract_report import contract_parts

    report.update(contract_parts(world, tender_result))
    order = ["scenario", "tender", "bids", "winner", "runner_up", "minutes", "contract", "status_statements",
             "payments", "publication"]
    return {k: report.get(k) for k in order}


def _outside_verification(world, xml: bytes) -> str | None:
    """Every signature of the minutes checked by xmlsec1 itself; None if any fails."""
    from signing.outside import verify_all_with_xmlsec1, xmlsec1_available

    if not xmlsec1_available():
        return None
    results = verify_all_with_xmlsec1(xml, world.ca.ca_certificate_pem())
    return "xmlsec1" if results and all(ok for _, ok, _ in results) else None


def dumps(report: dict) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2)


# --- for people at the terminal (eproc pilot without --json); the JSON above stays as it is -------

STATUS_FA = {
    # envelopes
    "accepted": "پذیرفته", "rejected": "رد", "returned_unopened": "عودت بدون بازگشایی",
    "not_submitted": "ارائه نشده",
    # the tender and its award
    "awarded": "برنده تعیین شد", "retender": "تجدید فرایند", "blocked": "متوقف",
    "announced": "آگهی‌شده", "opening_held": "بازگشایی شد", "price_opening_held": "پاکت قیمت بازگشایی شد",
    "minutes_not_confirmed": "صورتجلسه تأیید نشد", "minutes_final": "صورتجلسه نهایی شد",
    "technical_evaluated": "ارزیابی فنی شد", "contracted": "قرارداد بسته شد",
    # contracts, statements, payments
    "final": "نهایی", "draft": "پیش‌نویس", "approved": "تأیید شد", "refused": "رد شد", "paid": "پرداخت شد", "halted": "متوقف شد",
    "pending": "در انتظار", "submitted": "ارسال شد", "signed": "امضا شد", "published": "منتشر شد",
}


def status_fa(status: str | None) -> str | None:
    """A status or outcome word of the report in Persian (the word itself when it has none)."""
    return None if status is None else STATUS_FA.get(status, status)
