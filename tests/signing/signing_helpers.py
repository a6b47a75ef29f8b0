"""Helpers shared by the signing tests (a uniquely named module, not conftest, so that
test packages with their own conftest.py never shadow it)."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timezone

from cryptography import x509

from signing.token import Token

PIN = "246810"
SO_PIN = "13579111"
T0 = datetime(2024, 5, 1, 6, 30, tzinfo=timezone.utc)  # 1403/02/12 10:00 Tehran


def national_ids():
    """Distinct valid national IDs (mod-11 check digit), checked by domain.identity."""
    from domain.identity import validate_national_id
    from domain.reasons import DomainError

    for n in itertools.count(1000000):
        digits = f"{n:09d}"
        total = sum(int(digits[i]) * (10 - i) for i in range(9)) % 11
        check = total if total < 2 else 11 - total
        candidate = digits + str(check)
        try:
            yield validate_national_id(candidate)
        except DomainError:
            continue


@dataclass
class Person:
    label: str
    national_id: str
    full_name: str
    cert: x509.Certificate
    key_label: str = "sign"

    def token(self, pin: str = PIN) -> Token:
        return Token(self.label, pin=pin)


class RoleBook:
    """A stand-in for the role registry: who held which role in which unit, and when."""

    def __init__(self) -> None:
        self._spans: dict[tuple[str, str, str], list[tuple[datetime, datetime | None]]] = {}

    def grant(self, person: Person, role: str, unit: str, start: datetime, end: datetime | None = None) -> None:
        self._spans.setdefault((person.national_id, role, unit), []).append((start, end))

    def __call__(self, national_id: str, role: str, unit: str, at: datetime) -> bool:
        return any(start <= at and (end is None or at < end)
                   for start, end in self._spans.get((national_id, role, unit), []))


def minutes_xml() -> bytes:
    return ("<Minutes xmlns='urn:tehran-municipality:eproc:minutes:1' tender='T-1403-0042'>"
            "<Title>صورتجلسهٔ کمیسیون ماده ۱۳</Title>"
            "<Winner bid='B-7' price='12500000000'/><RunnerUp bid='B-3' price='12710000000'/>"
            "</Minutes>").encode()
