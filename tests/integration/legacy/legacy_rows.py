"""Rows of the old contracts system, as its export writes them (Persian headers)."""
from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from domain.persian import persian_digits

_COMPANY_WEIGHTS = (29, 27, 23, 19, 17, 29, 27, 23, 19, 17)

# Header order of the legacy export; the header mapping in services.legacy.read accepts these titles.
HEADERS_FA = {
    "legacy_id": "شناسه قرارداد قدیمی",
    "unit": "واحد",
    "subject": "موضوع قرارداد",
    "contractor_national_id": "شناسه ملی پیمانکار",
    "contractor_economic_code": "کد اقتصادی پیمانکار",
    "contractor_grade": "رتبه",
    "contractor_ceo": "مدیرعامل پیمانکار",
    "contractor_signatories": "امضاکنندگان پیمانکار",
    "contract_date": "تاریخ قرارداد",
    "contract_amount_rial": "مبلغ قرارداد",
    "selection_method": "روش انتخاب پیمانکار",
    "supervisor": "ناظر",
    "employer_signatories": "امضاکنندگان کارفرما",
    "commission_members": "اعضای کمیسیون معاملات",
    "budget_line": "ردیف بودجه",
    "expense_factor": "عامل هزینه",
    "status": "وضعیت",
    "contract_code": "کد قرارداد",
}


def national_id(seed: int) -> str:
    body = f"{(seed * 7919 + 10_000_019) % 1_000_000_000:09d}"
    total = sum(int(body[i]) * (10 - i) for i in range(9)) % 11
    return body + str(total if total < 2 else 11 - total)


def company_id(seed: int) -> str:
    body = f"{(seed * 104_729 + 1_000_100_007) % 10_000_000_000:010d}"  # digits 4-9 never all zero (R21)
    d = int(body[9]) + 2
    total = sum((d + int(body[i])) * _COMPANY_WEIGHTS[i] for i in range(10)) % 11
    return body + str(0 if total == 10 else total)


def good_row(n: int, unit: str = "district-12", **overrides: str) -> dict[str, str]:
    people = [national_id(n % 50 + k) for k in range(8)]
    row = {
        "legacy_id": f"L{n}",
        "unit": unit,
        "subject": f"نگهداری فضای سبز بوستان شمارهٔ {n}",
        "contractor_national_id": company_id(n % 97),
        "contractor_economic_code": f"4111{n % 97:08d}",
        "contractor_grade": "3",
        "contractor_ceo": people[0],
        "contractor_signatories": f"{people[0]}؛{people[1]}",
        "contract_date": "1400/06/15",
        "contract_amount_rial": "850,000,000",
        "selection_method": "مناقصهٔ عمومی",
        "supervisor": people[2],
        "employer_signatories": f"{people[3]}، {people[4]}",
        "commission_members": f"{people[5]};{people[6]};{people[7]}",
        "budget_line": "1030201",
        "expense_factor": "EF-12-07",
        "status": "در جریان",
        "contract_code": "",
    }
    row.update(overrides)
    return row


def write_csv(path: Path, rows: Iterable[dict[str, str]], bom: bool = True, persian_digits_in: tuple = ()) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADERS_FA.values())
        for row in rows:
            w.writerow([persian_digits(row[k]) if k in persian_digits_in else row[k] for k in HEADERS_FA])
    return path


def write_xlsx(path: Path, rows: Iterable[dict[str, object]]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(list(HEADERS_FA.values()))
    for row in rows:
        ws.append([row[k] for k in HEADERS_FA])
    wb.save(path)
    return path


def write_bulk_csv(path: Path, count: int, units: int = 22) -> Path:
    """count good rows over `units` districts, quickly: rows are templates with a fresh id and subject."""
    templates = [[good_row(i, unit=f"district-{i % units + 1}")[k] for k in HEADERS_FA] for i in range(units * 5)]
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADERS_FA.values())
        for n in range(count):
            row = templates[n % len(templates)].copy()
            row[0] = f"B{n}"
            row[2] = f"قرارداد نگهداری شمارهٔ {n}"
            w.writerow(row)
    return path
