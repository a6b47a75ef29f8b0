"""The store on SQLite and PostgreSQL: registries, roles over time, money, UTC, migrations."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError

from domain.reasons import DomainError, Reason
from store import models as m
from store.migrate import drift


def _seed(uow, clock):
    with uow() as u:
        u.units.add("district-12", "12", "منطقهٔ ۱۲", "district")
        u.people.add("5260181591", "علي رضايي")  # Arabic letters are normalised on the way in
        u.companies.add("50752917036", "شركت راه‌سازان", "411111111111", 2)
        u.record(at=clock.now(), actor="test", action="seed", entity="unit", entity_id="district-12")
        u.commit()


def test_migrations_reach_head_without_drift(engine):
    assert drift(engine) == []


def test_registry_normalises_and_validates(uow, clock):
    _seed(uow, clock)
    with uow() as u:
        assert u.people.get("۵۲۶۰۱۸۱۵۹۱").full_name == "علی رضایی"
        assert u.companies.get("50752917036").name == "شرکت راه‌سازان"
        with pytest.raises(DomainError) as exc:
            u.people.add("5260181592", "x")
        assert exc.value.reason is Reason.INVALID_INPUT
        with pytest.raises(DomainError) as exc:
            u.units.get("district-99")
        assert exc.value.reason is Reason.UNKNOWN_UNIT


def test_r05_role_held_only_within_its_period(uow, clock):
    _seed(uow, clock)
    with uow() as u:
        u.roles.assign("5260181591", "chair", "district-12", date(2021, 1, 1))
        u.commit()
    with uow() as u:
        assert u.roles.holds("5260181591", "chair", "district-12", date(2021, 7, 11))
        u.roles.end("5260181591", "chair", "district-12", date(2021, 8, 1))
        u.commit()
    with uow() as u:
        assert u.roles.holds("5260181591", "chair", "district-12", date(2021, 7, 31))
        assert not u.roles.holds("5260181591", "chair", "district-12", date(2021, 8, 1))
        assert not u.roles.holds("5260181591", "finance", "district-12", date(2021, 7, 31))


def test_nothing_is_written_without_commit(uow, clock):
    with uow() as u:
        u.units.add("district-2", "02", "منطقهٔ ۲", "district")
    with uow() as u:
        assert not u.units.exists("district-2")


def test_money_is_exact_integer_rials_and_times_are_utc(uow, clock):
    _seed(uow, clock)
    big = 9_876_543_210_123
    at = datetime(2021, 7, 3, 14, 0, tzinfo=timezone(timedelta(hours=4, minutes=30)))
    with uow() as u:
        u.contracts.add(m.Contract(tracking_number="TRK-1", unit_id="district-12", kind="works",
                                   stage="draft", amount_rial=big, contractor_id="50752917036",
                                   concluded_at=at))
        u.commit()
    with uow() as u:
        got = u.contracts.by_tracking("TRK-1")
        assert got.amount_rial == big and isinstance(got.amount_rial, int)
        assert got.concluded_at == datetime(2021, 7, 3, 9, 30, tzinfo=timezone.utc)
        assert got.concluded_at.tzinfo is not None
        assert got.code is None  # no code before the workflow reaches final


def test_naive_datetimes_are_refused(uow, clock):
    _seed(uow, clock)
    with uow() as u:
        u.contracts.add(m.Contract(tracking_number="TRK-2", unit_id="district-12", kind="works", stage="draft",
                                   amount_rial=1, contractor_id="50752917036", concluded_at=datetime(2021, 1, 1)))
        with pytest.raises(Exception, match="naive datetime"):
            u.commit()


def test_contract_code_is_unique(uow, clock):
    _seed(uow, clock)
    with uow() as u:
        for i in (1, 2):
            u.contracts.add(m.Contract(tracking_number=f"T{i}", code="12-1400-000001", unit_id="district-12",
                                       kind="works", stage="final", amount_rial=1, contractor_id="50752917036"))
        with pytest.raises(IntegrityError):
            u.commit()


def test_price_list_and_formula_versions(uow, clock):
    with uow() as u:
        u.price_lists.add("technical-civil/1400", 1, "technical-civil",
                          [("010101", "m3", 1_250_000), ("020305", "m2", 480_000)],
                          approved_by="معاون فنی", approved_at=clock.now(), technical_council_ref="TC-1")
        u.price_lists.add("technical-civil/1400", 2, "technical-civil", [("010101", "m3", 1_300_000)],
                          approved_by="معاون فنی", approved_at=clock.now())
        u.formulas.add("abnormally-low", 1, "mean(values) - pstdev(values)", "معاون فنی", clock.now(), "TC-1")
        u.commit()
    with uow() as u:
        assert [i.unit_price for i in u.price_lists.get("technical-civil/1400", 1).items] == [1_250_000, 480_000]
        assert u.price_lists.get("technical-civil/1400").version == 2
        # The same version with other text is refused: an approved formula never changes silently.
        with pytest.raises(DomainError):
            u.formulas.add("abnormally-low", 1, "mean(values)", "x", clock.now(), "TC-2")
