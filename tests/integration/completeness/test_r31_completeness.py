"""R31: completeness is checked, not assumed. The counts the treasurers and legal units declare each
month, per unit and threshold class, are compared with the system's and every difference is listed
per unit; each unit's correction inbox shows its progress week by week against its deadline."""
from __future__ import annotations

from datetime import timedelta

import pytest

from domain.reasons import DomainError, Reason
from domain.reports.completeness import InboxEntry, weekly_progress
from services.completeness import CHECKED, check, inbox
from services.reports import jalali_month_bounds

HEADER = "unit,source,threshold_class,concluded,in_progress\n"


@pytest.fixture
def shahrivar(add_contract):
    # Shahrivar 1400: district-12 concluded one small and one large contract and has a medium one open;
    # district-2 concluded one medium contract.
    add_contract("district-12", "final", "small", concluded="1400/06/01 09:00", created="1400/05/20 10:00")
    add_contract("district-12", "final", "large", concluded="1400/06/20 12:00", created="1400/06/02 09:00")
    add_contract("district-12", "budget", "medium", created="1400/06/02 10:00")
    add_contract("district-2", "final", "medium", concluded="1400/06/15 12:00", created="1400/06/01 08:00")


def write(tmp_path, text: str, name: str = "1400-06.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_r31_count_mismatch_is_listed_per_unit(tmp_path, sessions, policy, clock, shahrivar):
    # The treasurer of district-12 declares two small contracts (the system has one) and the open medium
    # one; district-2's legal unit declares what the system holds; a line names an unknown unit, another
    # a class that is not one, written the way people write them (Persian digits and class names).
    path = write(tmp_path, HEADER
                 + "district-12,ذی‌حساب,خرد,۲,۰\n"
                 + "district-12,treasurer,medium,0,1\n"
                 + "district-12,treasurer,کلان,1,\n"
                 + "district-2,حقوقی,متوسط,1,0\n"
                 + "district-99,treasurer,small,1,0\n"
                 + "district-2,legal,huge,1,0\n")
    result = check(path, 1400, 6, sessions=sessions, policy=policy, clock=clock)
    per_unit = result.by_unit()
    assert set(per_unit) == {"district-12", "district-2"}
    assert per_unit["district-2"] == []  # its counts agree
    [diff] = per_unit["district-12"]
    assert (diff.source, diff.threshold_class, diff.measure, diff.declared, diff.counted, diff.kind) == \
        ("treasurer", "small", "concluded", 2, 1, "not_registered")
    assert [(b.line, b.reason) for b in result.bad_lines] == [(6, Reason.UNKNOWN_UNIT), (7, Reason.INVALID_INPUT)]
    # The check is audited with what was found, under its period.
    with sessions() as s:
        from sqlalchemy import select

        from store.models import AuditEntry

        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == CHECKED)).one()
    assert entry.entity_id == "1400/06" and '"not_registered"' in entry.payload_json


def test_r31_the_system_holding_more_than_declared_is_listed_too(tmp_path, sessions, policy, clock, shahrivar):
    path = write(tmp_path, HEADER + "district-12,legal,large,0,0\n")
    [diff] = check(path, 1400, 6, sessions=sessions, policy=policy, clock=clock).differences
    assert (diff.source, diff.threshold_class, diff.declared, diff.counted, diff.kind) == \
        ("legal", "large", 0, 1, "not_declared")


def test_r31_a_file_without_a_mandatory_column_is_refused(tmp_path, sessions, policy, clock):
    path = write(tmp_path, "unit,threshold_class,concluded\ndistrict-12,small,1\n")
    with pytest.raises(DomainError) as err:
        check(path, 1400, 6, sessions=sessions, policy=policy, clock=clock)
    assert err.value.reason is Reason.FIELD_MISSING and "source" in err.value.detail


def test_r31_inbox_shows_weekly_progress_against_the_deadline(tmp_path, sessions, policy, clock, add_contract,
                                                               shahrivar):
    days = policy.completeness.correction_days
    assert days == 14  # s111 item 1-4: at most two weeks for each unit
    start, _ = jalali_month_bounds(1400, 7)
    clock.set(start + timedelta(days=2))
    declared = write(tmp_path, HEADER + "district-12,treasurer,small,2,0\n"
                                      + "district-12,treasurer,large,2,0\n")
    check(declared, 1400, 6, sessions=sessions, policy=policy, clock=clock)
    first = clock.now()
    [unit] = inbox(sessions, policy, clock, "district-12")
    assert (unit.progress.status, unit.progress.open, unit.progress.deadline) == \
        ("on_track", 2, first + timedelta(days=days))
    # Week 1: the unit registers the missing small contract; the check, run again, finds it.
    clock.advance(timedelta(days=6))
    add_contract("district-12", "final", "small", concluded="1400/06/25 09:00", created="1400/06/24 10:00")
    check(declared, 1400, 6, sessions=sessions, policy=policy, clock=clock)
    clock.advance(timedelta(days=2))
    [unit] = inbox(sessions, policy, clock, "district-12")
    weeks = [(w.number, w.opened, w.resolved, w.open, w.allowed_open, w.on_track) for w in unit.progress.weeks]
    assert weeks == [(1, 2, 1, 1, 1, True), (2, 2, 1, 1, 1, True)]
    assert unit.progress.status == "on_track"
    assert [i.difference["threshold_class"] for i in unit.items if i.resolved_at is None] == ["large"]
    # Past the deadline with the large contract still missing: overdue, week by week up to today.
    clock.advance(timedelta(days=10))
    [unit] = inbox(sessions, policy, clock, "district-12")
    assert unit.progress.status == "overdue" and unit.progress.open == 1
    # The deadline fell at the end of week 2: from then on nothing may be open.
    assert [(w.open, w.allowed_open, w.on_track) for w in unit.progress.weeks] == \
        [(1, 1, True), (1, 0, False), (1, 0, False)]
    # Another unit's inbox is empty; every unit's inbox lists only units with something to correct.
    assert inbox(sessions, policy, clock, "district-5")[0].progress.status == "done"
    assert [u.unit for u in inbox(sessions, policy, clock)] == ["district-12"]


def test_r31_weekly_progress_is_behind_when_corrections_lag_the_straight_line(clock):
    now = clock.now()
    opened = [InboxEntry(now - timedelta(days=10), None) for _ in range(4)]
    progress = weekly_progress(opened, 14, now)
    # Ten of fourteen days gone: at most two of four may still be open; four are.
    assert progress.status == "behind"
    assert [(w.number, w.open, w.allowed_open) for w in progress.weeks] == [(1, 4, 2), (2, 4, 2)]
