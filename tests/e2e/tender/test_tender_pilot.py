"""The electronic tender end to end: real flows, store, SoftHSM tokens, sealed envelopes and
signatures, on a simulated clock. Expected values are computed here from the scenario data."""
from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal

from pilot_harness import DISTRICT_2, DISTRICT_12, load_raw, variant, write


def company_id(prefix10: str) -> str:
    weights = (29, 27, 23, 19, 17, 29, 27, 23, 19, 17)
    d = int(prefix10[9]) + 2
    total = sum((d + int(prefix10[i])) * weights[i] for i in range(10)) % 11
    return prefix10 + str(0 if total == 10 else total)


def rial(x: Decimal) -> int:
    return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def estimate_of(raw: dict) -> int:
    prices = {i["code"]: i["unit_price"] for i in raw["price_list"]["items"]}
    return sum(i["quantity"] * prices[i["code"]] for i in raw["tender"]["items"])


def bidder(bid: str, n: int, submit_at: str, coefficient: str, **over) -> dict:
    base = {"id": bid, "name": f"شرکت آزمون {n}", "national_id": company_id(f"10{n + 1_234_567:08d}"),
            "economic_code": f"4111111{n:05d}", "grade": 2, "submit_at": submit_at,
            "guarantee": {"amount_rial": 650_000_000, "valid_until": "1400/07/30"},
            "documents": ["articles_of_association", "grade_certificate", "signed_tender_documents"],
            "price": {"coefficient": float(coefficient)}}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def test_r08_r10_r11_district_12_one_stage(run, tmp_path):
    raw = load_raw(DISTRICT_12)
    report = run(DISTRICT_12, out=tmp_path / "out")
    est = estimate_of(raw)
    assert report["tender"] == {"status": "awarded", "reason": None, "estimate_rial": est}
    price = {b["id"]: rial(Decimal(str(b["price"]["coefficient"])) * est) for b in raw["bidders"]}
    # b2's guarantee is below the tender's; the other four are priced, then the abnormal rule:
    valid = [price[b] for b in ("b1", "b3", "b4", "b5")]
    values = [Decimal(v) for v in valid + [est]]
    mean = sum(values) / len(values)
    std = (sum((v - mean) ** 2 for v in values) / len(values)).sqrt()
    low = {b for b in ("b1", "b3", "b4", "b5") if price[b] < mean - std}
    assert low == {"b1"}
    assert report["bids"]["b2"] == {"A": "rejected", "B": "returned_unopened", "C": "returned_unopened",
                                    "price_rial": None, "rank": None, "reason": "GUARANTEE_INSUFFICIENT"}
    assert report["bids"]["b1"]["reason"] == "ABNORMALLY_LOW" and report["bids"]["b1"]["C"] == "rejected"
    ranked = sorted((price[b], b) for b in ("b3", "b4", "b5"))
    assert [report["bids"][b]["rank"] for _, b in ranked] == [1, 2, 3]
    assert report["winner"] == ranked[0][1]
    assert report["runner_up"] == (ranked[1][1] if ranked[1][0] - ranked[0][0] <= 650_000_000 else None)
    assert report["minutes"]["article13"] == {"final": True, "signers": ["m1", "m2", "m3", "m4", "m5"],
                                              "verified_with": "xmlsec1"}
    assert report["minutes"]["article18"] == {"final": True, "signers": ["m1"], "notified": report["winner"]}
    out = tmp_path / "out"
    assert json.loads((out / "report.json").read_text(encoding="utf-8")) == report
    for name in ("minutes/article13.xml", "minutes/article18.xml", "trust/ca.pem", "trust/crl.pem",
                 "audit/log.jsonl", "audit/VERIFY.md", "receipts/b3.xml"):
        assert (out / name).is_file(), name
    # Issue 13 parts 1 and 6: the contracts officer opened the contract and entered its terms at their
    # station, and every stage was approved by a person; the engine approved nothing.
    audit = [json.loads(x) for x in (out / "audit/log.jsonl").read_text(encoding="utf-8").splitlines() if x]
    acts = {(e["action"], e["actor"]) for e in audit if e["action"].startswith("contract.")}
    opened = [a for act, a in acts if act == "contract.opened"]
    assert len(opened) == 1 and opened[0] != "engine"
    assert ("contract.terms", opened[0]) in acts
    assert {a for act, a in acts if act == "contract.approved"} and ("contract.approved", "engine") not in acts


def test_r06_minutes_in_the_bundle_verify_with_xmlsec1_and_fail_when_changed(run, tmp_path):
    from signing.outside import verify_all_with_xmlsec1

    run(DISTRICT_12, out=tmp_path / "out")
    ca = (tmp_path / "out/trust/ca.pem").read_bytes()
    for doc in ("minutes/article13.xml", "minutes/article18.xml", "receipts/b3.xml"):
        xml = (tmp_path / "out" / doc).read_bytes()
        results = verify_all_with_xmlsec1(xml, ca)
        assert results and all(ok for _, ok, _ in results), (doc, results)
    xml = (tmp_path / "out/minutes/article13.xml").read_bytes()
    changed = xml.replace(b'winner="b3"', b'winner="b4"', 1)
    assert changed != xml
    assert not any(ok for _, ok, _ in verify_all_with_xmlsec1(changed, ca))


def test_r08_two_stage_district_2(run):
    report = run(DISTRICT_2)
    assert report["bids"]["b3"] == {"A": "rejected", "B": "not_submitted", "C": "not_submitted",
                                    "price_rial": None, "rank": None, "reason": "LATE_SUBMISSION"}
    assert report["bids"]["b2"]["B"] == "rejected" and report["bids"]["b2"]["C"] == "returned_unopened"
    assert report["bids"]["b2"]["reason"] == "TECHNICAL_SCORE_BELOW_MIN"
    raw = load_raw(DISTRICT_2)
    est = estimate_of(raw)
    assert report["bids"]["b1"]["price_rial"] == rial(Decimal("0.98") * est)
    # Only two prices remain, fewer than the abnormal rule needs: b1 (lower) wins.
    assert report["winner"] == "b1" and report["runner_up"] == "b4"
    assert report["tender"]["status"] == "awarded"


def test_r05_r08_every_envelope_rule_replaced_bid_tie_and_alternate(run):
    raw = load_raw(DISTRICT_12)
    bidders = [
        bidder("nog", 1, "1400/04/05 10:00", "0.95", guarantee=None),
        bidder("early", 2, "1400/04/05 10:00", "0.95", guarantee={"amount_rial": 650_000_000,
                                                                    "valid_until": "1400/07/01"}),
        bidder("docs", 3, "1400/04/05 10:00", "0.95", documents=["articles_of_association"]),
        bidder("grade", 4, "1400/04/05 10:00", "0.95", grade=5),
        bidder("tamper", 5, "1400/04/05 10:00", "0.95"),
        bidder("revoked", 6, "1400/04/08 10:00", "0.95"),
        bidder("replaced", 7, "1400/04/06 10:00", "1.10"),
        bidder("tie1", 8, "1400/04/05 11:00", "0.95"),
        bidder("tie2", 9, "1400/04/06 11:00", "0.95"),
    ]
    commission = raw["commission"] + [{"id": "m6", "role": "finance", "name": "جانشین رئیس اداره مالی",
                                       "national_id": "0067749828", "alternate_for": "m2"}]
    events = [
        {"at": "1400/04/07 09:00", "kind": "revoke_certificate", "who": "revoked"},
        {"at": "1400/04/09 09:00", "kind": "resubmit", "who": "replaced", "price": {"coefficient": 0.96}},
        {"at": "1400/04/12 20:00", "kind": "tamper_envelope", "who": "tamper", "envelope": "C"},
        {"at": "1400/04/13 09:00", "kind": "revoke_certificate", "who": "m2"},
    ]
    data = variant(raw, "rules-variant", bidders=bidders, commission=commission, events=events)
    data.pop("contract"), data.pop("status_statements"), data.pop("payments")
    report = run(write(_tmp(), data))
    b = report["bids"]
    assert b["nog"]["reason"] == "GUARANTEE_MISSING" and b["nog"]["B"] == "returned_unopened"
    assert b["early"]["reason"] == "GUARANTEE_EXPIRES_EARLY"
    assert b["docs"]["reason"] == "DOCUMENTS_INCOMPLETE" and b["docs"]["C"] == "returned_unopened"
    assert b["grade"]["reason"] == "GRADE_NOT_ALLOWED"
    assert b["tamper"]["reason"] == "ENVELOPE_TAMPERED" and b["tamper"]["C"] == "rejected"
    assert b["revoked"] == {"A": "rejected", "B": "not_submitted", "C": "not_submitted", "price_rial": None,
                            "rank": None, "reason": "BIDDER_SIGNATURE_INVALID"}
    est = estimate_of(raw)
    assert b["replaced"]["price_rial"] == rial(Decimal("0.96") * est)  # the replacement counts
    assert b["tie1"]["price_rial"] == b["tie2"]["price_rial"]
    assert (b["tie1"]["rank"], b["tie2"]["rank"]) == (1, 2)  # the earlier receipt wins the tie
    assert report["winner"] == "tie1" and report["runner_up"] == "tie2"
    # m2's certificate was revoked before the session: the alternate m6 takes part and signs.
    assert report["minutes"]["article13"]["signers"] == ["m1", "m3", "m4", "m5", "m6"]
    assert report["minutes"]["article13"]["verified_with"] == "xmlsec1"


_TMP = {}


def _tmp():
    import tempfile
    from pathlib import Path

    return Path(_TMP.setdefault("d", tempfile.mkdtemp(prefix="eproc-variants-")))


def _run_variant(run, name, **changes):
    raw = load_raw(DISTRICT_12)
    data = variant(raw, name, **changes)
    for key in ("contract", "status_statements", "payments"):
        data.pop(key, None)
    return run(write(_tmp(), data))


def test_r04_revoked_member_without_alternate_blocks_opening(run):
    report = _run_variant(run, "quorum-variant", events=[{"at": "1400/04/13 09:00", "kind": "revoke_certificate",
                                                          "who": "m3"}])
    assert report["tender"]["status"] == "blocked" and report["tender"]["reason"] == "QUORUM_NOT_MET"
    assert report["minutes"]["article13"] is None and report["winner"] is None
    # Bids were received but never opened.
    assert all(v["A"] is None for v in report["bids"].values())


def test_r08_security_representative_absent_blocks_opening(run):
    report = _run_variant(run, "security-variant", events=[{"at": "1400/04/13 09:30", "kind": "absent",
                                                            "who": "m5"}])
    assert report["tender"] == {"status": "blocked", "reason": "SECURITY_REP_ABSENT",
                                "estimate_rial": estimate_of(load_raw(DISTRICT_12))}


def test_r01_auction_highest_wins_and_below_base_price(run):
    raw = load_raw(DISTRICT_12)
    tender = dict(raw["tender"], kind="auction")
    bidders = [bidder("a1", 11, "1400/04/05 10:00", "1.10"), bidder("a2", 12, "1400/04/05 11:00", "1.08"),
               bidder("a3", 13, "1400/04/05 12:00", "0.97")]
    report = _run_variant(run, "auction-variant", tender=tender, bidders=bidders)
    est = estimate_of(raw)
    assert report["bids"]["a3"]["reason"] == "BELOW_BASE_PRICE"
    assert report["winner"] == "a1" and report["bids"]["a1"]["price_rial"] == rial(Decimal("1.10") * est)
    assert report["runner_up"] == "a2"  # 0.02 × estimate is within the guarantee


def test_r08_too_few_valid_bids_is_retender(run):
    raw = load_raw(DISTRICT_12)
    report = _run_variant(run, "few-variant", bidders=[raw["bidders"][0], raw["bidders"][1]])
    assert report["tender"]["status"] == "retender" and report["tender"]["reason"] == "TOO_FEW_VALID_BIDS"
    assert report["minutes"]["article13"]["final"] is True  # the re-tender is recorded in signed minutes
    assert report["winner"] is None


def test_r11_winner_declines_then_runner_up_signs(run):
    report = _run_variant(run, "decline-variant", events=[{"at": "1400/04/14 09:00", "kind": "decline_contract",
                                                           "who": "b3"}])
    assert report["tender"]["status"] == "awarded"
    assert report["bids"]["b3"]["reason"] == "GUARANTEE_FORFEITED"
    assert report["winner"] == "b3" and report["minutes"]["article18"]["notified"] == "b4"


def test_r11_winner_and_runner_up_decline_is_retender(run):
    events = [{"at": "1400/04/14 09:00", "kind": "decline_contract", "who": w} for w in ("b3", "b4")]
    report = _run_variant(run, "declines-variant", events=events)
    assert report["tender"] == {"status": "retender", "reason": "WINNERS_DECLINED",
                                "estimate_rial": estimate_of(load_raw(DISTRICT_12))}
