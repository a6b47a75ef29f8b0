"""R04 readiness: each member's certificate and token status for a date."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from signing.readiness import MemberRole, readiness, summary_by_unit
from signing.registry import CertificateRecord

TODAY = date(2024, 6, 1)
NOON = datetime(2024, 6, 1, 8, 30, tzinfo=timezone.utc)  # 12:00 in Tehran


def record(serial, nid, issued_days_ago, valid_days, token="tok", revoked_days_ago=None):
    start = NOON - timedelta(days=issued_days_ago)
    return CertificateRecord(serial, nid, f"{token}-{serial}", "sign", "", start, start + timedelta(days=valid_days),
                             NOON - timedelta(days=revoked_days_ago) if revoked_days_ago is not None else None,
                             "affiliationChanged" if revoked_days_ago is not None else None)


MEMBERS = [MemberRole("0010000003", "مریم احمدی", "chair", "district-2"),
           MemberRole("0010000011", "علی رضایی", "finance", "district-2"),
           MemberRole("0010000021", "سارا کریمی", "technical", "district-2"),
           MemberRole("0010000038", "رضا موسوی", "legal", "district-2"),
           MemberRole("0010000046", "حسین نوری", "security", "district-2"),
           MemberRole("0010000054", "نرگس جعفری", "chair", "district-12")]

CERTS = [record(1, "0010000003", 10, 365),                          # ready
         record(2, "0010000011", 340, 365),                         # 25 days left: expiring
         record(3, "0010000021", 400, 365),                         # expired
         record(4, "0010000038", 10, 365, revoked_days_ago=2),      # revoked
         # security: no certificate at all -> missing
         record(6, "0010000054", 400, 365), record(7, "0010000054", 30, 365)]  # renewed: ready


def test_r04_readiness_statuses():
    rows = readiness(MEMBERS, CERTS, TODAY)
    assert [(r.role, r.status) for r in rows] == [
        ("chair", "ready"), ("finance", "expiring"), ("technical", "expired"),
        ("legal", "revoked"), ("security", "missing"), ("chair", "ready")]
    assert rows[1].days_left == 25 and rows[1].can_sign
    assert rows[5].cert_serial == 7
    assert not rows[2].can_sign and not rows[3].can_sign and rows[4].cert_serial is None
    assert [r.status_fa for r in rows[:2]] == ["آماده", "گواهی رو به انقضا"]


def test_r04_absent_token_makes_a_member_not_ready():
    rows = readiness(MEMBERS[:1], CERTS, TODAY, token_present=lambda label: label != "tok-1")
    assert rows[0].status == "missing" and rows[0].cert_serial == 1 and not rows[0].can_sign


def test_r04_revocation_later_than_the_date_does_not_count_yet():
    future = [record(4, "0010000038", 10, 365, revoked_days_ago=-3)]
    assert readiness(MEMBERS[3:4], future, TODAY)[0].status == "ready"


def test_r04_summary_per_district():
    summary = summary_by_unit(readiness(MEMBERS, CERTS, TODAY))
    assert summary["district-2"]["ready"] == 1 and summary["district-2"]["missing"] == 1
    assert dict(summary["district-12"]) == {"ready": 1}
    assert sum(summary["district-2"].values()) == 5
