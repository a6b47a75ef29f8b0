"""R16: legacy contracts are migrated; rows that need correction wait in their unit's inbox (R21 checks)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from legacy_rows import good_row, national_id, write_csv, write_xlsx
from sqlalchemy import func, select

from domain.contract.code import make_contract_code
from domain.contract.fields import GENERAL, missing_fields
from domain.persian import persian_digits
from domain.reasons import DomainError
from services.legacy import corrections
from store.legacy_models import CorrectionInboxRow, LegacyContract
from store.models import AuditEntry, Contract

FINAL_CODE = make_contract_code("02", 1400, 7)


def mixed_rows() -> list[dict[str, str]]:
    return [
        good_row(1),                                                          # row 2: ok
        good_row(2, contract_amount_rial="۱۲٬۵۰۰٬۰۰۰٬۰۰۰", contract_date="۱۴۰۰/۰۶/۲۰"),  # row 3: Persian digits
        good_row(3, supervisor="1234567890"),                                 # row 4: bad national id
        good_row(4, unit="district-2", contract_date="1400/13/01"),           # row 5: bad Jalali date
        good_row(5, budget_line=""),                                          # row 6: mandatory field missing
        good_row(6, unit="district-99"),                                      # row 7: unknown unit
        good_row(1, subject="موضوع دیگری با همان شناسه"),                       # row 8: duplicate legacy id
        good_row(8, unit="district-2", status="نهایی", contract_code=FINAL_CODE),  # row 9: final with code
        good_row(9, unit="district-2", contract_date="1396/03/10"),          # row 10: before the cutoff
        good_row(10, contract_date="1395/02/01"),                            # row 11: no thresholds table
        good_row(11, unit="district-2", contract_code=FINAL_CODE[:-1] + ("A" if FINAL_CODE[-1] != "A" else "B")),
    ]


def problems_by_row(sessions) -> dict[int, set[tuple[str, str]]]:
    return {i.row_number: {(p.reason, p.field) for p in i.problems} for i in corrections(sessions)}


def test_r16_mixed_file_gives_exact_counts_and_inbox(tmp_path, run_import, sessions):
    path = write_csv(tmp_path / "legacy.csv", mixed_rows())
    result = run_import(path)

    assert result.rows == 11
    units = result.to_dict()["units"]
    assert units["district-12"] == {"imported": 2, "already_imported": 0, "to_correct": 4, "not_publishable": 0}
    assert units["district-2"] == {"imported": 2, "already_imported": 0, "to_correct": 2, "not_publishable": 1}
    assert units["district-99"] == {"imported": 0, "already_imported": 0, "to_correct": 1, "not_publishable": 0}

    assert problems_by_row(sessions) == {
        4: {("INVALID_INPUT", "supervisor")},
        5: {("INVALID_INPUT", "contract_date")},
        6: {("FIELD_MISSING", "budget_line")},
        7: {("UNKNOWN_UNIT", "unit")},
        8: {("INVALID_INPUT", "legacy_id")},
        11: {("THRESHOLDS_NOT_CONFIGURED", "threshold_class")},
        12: {("INVALID_INPUT", "contract_code")},
    }
    inbox_12 = corrections(sessions, "district-12")
    assert [i.row_number for i in inbox_12] == [4, 6, 8, 11]
    assert all(p.message and p.field_fa for i in inbox_12 for p in i.problems)
    assert "کد ملی" in inbox_12[0].problems[0].message
    assert [i.row_number for i in corrections(sessions, "district-99")] == [7]


def test_r16_imported_contracts_carry_the_legacy_data(tmp_path, run_import, sessions):
    run_import(write_csv(tmp_path / "legacy.csv", mixed_rows()))
    with sessions() as s:
        contracts = {c.tracking_number: c for c in s.scalars(select(Contract))}
    assert set(contracts) == {"LEG-12-L1", "LEG-12-L2", "LEG-02-L8", "LEG-02-L9"}

    persian = contracts["LEG-12-L2"]
    assert persian.amount_rial == 12_500_000_000 and persian.threshold_class == "large"
    assert persian.stage == "legacy" and persian.code is None and persian.concluded_at is None
    data = json.loads(persian.data_json)
    assert data["contract_date"] == "1400/06/20" and data["publishable"] is True
    assert missing_fields(GENERAL, data) == []  # complete for the transparency site (R21)

    final = contracts["LEG-02-L8"]
    assert final.stage == "final" and final.code == FINAL_CODE
    # Tehran midnight of 1400/06/15 (2021-09-06), i.e. 19:30 UTC the day before.
    assert final.concluded_at == datetime(2021, 9, 5, 19, 30, tzinfo=timezone.utc)

    early = contracts["LEG-02-L9"]
    assert json.loads(early.data_json)["publishable"] is False
    assert early.threshold_class == "medium"  # 850 M rials: above the 1396 small limit (500 M)
    assert contracts["LEG-12-L1"].threshold_class == "small"


def test_r16_reimporting_the_same_file_is_idempotent(tmp_path, run_import, sessions):
    path = write_csv(tmp_path / "legacy.csv", mixed_rows())
    first = run_import(path).totals()
    second = run_import(path)
    totals = second.totals()
    assert (totals.imported, totals.already_imported, totals.to_correct) == (0, first.imported, first.to_correct)
    assert second.to_dict()["units"]["district-2"]["already_imported"] == 2
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Contract)) == first.imported
        assert s.scalar(select(func.count()).select_from(LegacyContract)) == first.imported
        assert s.scalar(select(func.count()).select_from(CorrectionInboxRow)) == first.to_correct
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.action == "legacy.import")).all()
    assert len(actions) == 2


def test_r16_corrected_row_imports_and_leaves_the_inbox(tmp_path, run_import, sessions):
    run_import(write_csv(tmp_path / "v1.csv", [good_row(1), good_row(5, budget_line="")]))
    assert [i.legacy_id for i in corrections(sessions, "district-12")] == ["L5"]
    result = run_import(write_csv(tmp_path / "v2.csv", [good_row(1), good_row(5)]))
    assert result.to_dict()["units"]["district-12"] == {"imported": 1, "already_imported": 1, "to_correct": 0,
                                                        "not_publishable": 0}
    assert corrections(sessions, "district-12") == []
    resolved = corrections(sessions, "district-12", include_resolved=True)
    assert len(resolved) == 1 and resolved[0].resolved_at is not None


def test_r16_xlsx_with_numeric_cells(tmp_path, run_import, sessions):
    rows = [good_row(1), good_row(2), good_row(3, contractor_national_id="5075291703")]
    rows[0]["contract_amount_rial"] = 850_000_000          # an Excel number cell
    rows[1]["contract_amount_rial"] = 2_000_000_000.0      # a float cell, as Excel stores numbers
    rows[1]["contractor_grade"] = 2
    path = write_xlsx(tmp_path / "legacy.xlsx", rows)
    result = run_import(path)
    assert result.to_dict()["units"]["district-12"]["imported"] == 2
    with sessions() as s:
        amounts = dict(s.execute(select(Contract.tracking_number, Contract.amount_rial)).all())
        grade = json.loads(s.scalar(select(Contract.data_json).where(Contract.tracking_number == "LEG-12-L2")))
    assert amounts == {"LEG-12-L1": 850_000_000, "LEG-12-L2": 2_000_000_000}
    assert grade["contractor_grade"] == 2 and grade["threshold_class"] == "medium"
    assert problems_by_row(sessions) == {4: {("INVALID_INPUT", "contractor_national_id")}}


def test_r16_english_headers_and_a_named_unit_column(tmp_path, run_import, sessions):
    import csv

    row = good_row(1, unit="12")
    english = {"legacy_id": "Legacy ID", "unit": "District Code", "subject": "Subject",
               "contractor_national_id": "Contractor National ID", "contractor_economic_code": "Economic Code",
               "contractor_grade": "Grade", "contractor_ceo": "CEO", "contractor_signatories": "Contractor Signatories",
               "contract_date": "Contract Date", "contract_amount_rial": "Amount", "selection_method": "Selection Method",
               "supervisor": "Supervisor", "employer_signatories": "Employer Signatories",
               "commission_members": "Commission Members", "budget_line": "Budget Line",
               "expense_factor": "Expense Factor"}
    path = tmp_path / "english.csv"
    with path.open("w", encoding="utf-8", newline="") as f:  # no BOM, semicolons
        w = csv.writer(f, delimiter=";")
        w.writerow(english.values())
        w.writerow([persian_digits(row[k]) if k == "contractor_ceo" else row[k] for k in english])
    result = run_import(path, unit_column="District Code")
    assert result.to_dict()["units"] == {"district-12": {"imported": 1, "already_imported": 0, "to_correct": 0,
                                                         "not_publishable": 0}}
    with sessions() as s:
        data = json.loads(s.scalar(select(Contract.data_json)))
    assert data["contractor_ceo"] == row["contractor_ceo"] and data["unit"] == "district-12"


def test_r16_a_file_without_a_mandatory_column_is_refused_before_writing(tmp_path, run_import, sessions):
    path = tmp_path / "short.csv"
    path.write_text("شناسه قرارداد قدیمی,واحد,موضوع قرارداد\nL1,district-12,x\n", encoding="utf-8")
    with pytest.raises(DomainError) as err:
        run_import(path)
    assert err.value.reason.value == "FIELD_MISSING"
    assert "budget_line" in err.value.detail and "supervisor" in err.value.detail
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Contract)) == 0


def test_r16_signatory_lists_are_checked_one_by_one(tmp_path, run_import, sessions):
    bad = national_id(3)[:-1] + str((int(national_id(3)[-1]) + 1) % 10)
    run_import(write_csv(tmp_path / "l.csv", [good_row(1, commission_members=f"{national_id(1)}؛{bad}")]))
    (item,) = corrections(sessions, "district-12")
    assert [(p.reason, p.field) for p in item.problems] == [("INVALID_INPUT", "commission_members")]
    assert bad in item.problems[0].message


@pytest.mark.parametrize("subject", ['موضوع "نقل‌قول" و \\ بک‌اسلش', "خط اول\nخط دوم", "ascii only </script>"])
def test_r16_stored_contract_data_is_canonical_json(subject, policy):
    from services.legacy import RowValidator, ValidRow

    row = good_row(1, subject=subject, budget_line='B"1', status="")
    checked = RowValidator(policy).validate(2, row)
    assert isinstance(checked, ValidRow)
    data = json.loads(checked.data_json)
    assert data["subject"] == subject.strip() and data["budget_line"] == 'B"1' and data["legacy_status"] is None
    assert checked.data_json == json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
