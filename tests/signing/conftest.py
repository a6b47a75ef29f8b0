"""Real SoftHSM2 tokens for the signing tests.

One SoftHSM token directory per test session (SOFTHSM2_CONF must be set before the
PKCS#11 library is loaded, so it is set here, session-wide, before any test opens a token).
Enrolment is cheap (RSA-2048 key generation on SoftHSM, about 0.1-0.2 s), so tests that
damage a token (revoke, delete) enrol a fresh person of their own.
"""
from __future__ import annotations

import itertools
import shutil
from datetime import datetime, timedelta

import pytest
from signing_helpers import PIN, SO_PIN, T0, Person, RoleBook, national_ids

from domain.clock import SimulatedClock
from signing.ca import MunicipalCA
from signing.softhsm import SoftHsm
from signing.token import Token


@pytest.fixture(scope="session")
def hsm(tmp_path_factory) -> SoftHsm:
    if shutil.which("softhsm2-util") is None:
        pytest.skip("softhsm2-util is not installed")
    return SoftHsm.for_process(tmp_path_factory.mktemp("softhsm"))


@pytest.fixture(scope="session")
def ca(tmp_path_factory) -> MunicipalCA:
    return MunicipalCA.init(tmp_path_factory.mktemp("ca"), "مرجع صدور گواهی آزمایشی شهرداری تهران",
                            SimulatedClock(T0 - timedelta(days=1)), key_size=2048)


@pytest.fixture(scope="session")
def other_ca(tmp_path_factory) -> MunicipalCA:
    return MunicipalCA.init(tmp_path_factory.mktemp("other-ca"), "مرجع ناشناس", SimulatedClock(T0 - timedelta(days=1)),
                            key_size=2048)


@pytest.fixture(scope="session")
def enroll(hsm, ca):
    """enroll(full_name, valid_days=365, at=T0, authority=ca) -> Person on a fresh token."""
    ids = national_ids()
    counter = itertools.count(1)

    def _enroll(full_name: str, valid_days: int = 365, at: datetime = T0,
                authority: MunicipalCA | None = None) -> Person:
        label = f"member-{next(counter)}"
        hsm.init_token(label, PIN, SO_PIN)
        nid = next(ids)
        with Token(label, pin=PIN) as tok:
            cert = (authority or ca).enroll(nid, full_name, tok, "sign", valid_days, SimulatedClock(at))
        return Person(label, nid, full_name, cert)

    return _enroll


@pytest.fixture(scope="session")
def commission(enroll) -> dict[str, Person]:
    """Three voting members of district 2's Article 13 commission."""
    return {"chair": enroll("مریم احمدی"), "finance": enroll("علی رضایی"), "technical": enroll("سارا کریمی")}


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(T0 + timedelta(hours=2))


@pytest.fixture
def roles(commission) -> RoleBook:
    book = RoleBook()
    for role, person in commission.items():
        book.grant(person, role, "district-2", T0 - timedelta(days=30))
    return book


@pytest.fixture
def run_xmlsec1(tmp_path):
    """run_xmlsec1(xml_bytes, ca_pem_path, index, at=None) -> CompletedProcess of the documented command."""
    import subprocess

    from signing.xmldsig import xmlsec1_verify_command

    if shutil.which("xmlsec1") is None:
        pytest.skip("xmlsec1 is not installed")

    def _run(xml: bytes, ca_pem, index: int, at=None):
        path = tmp_path / f"doc-{abs(hash(xml))}.xml"
        path.write_bytes(xml)
        return subprocess.run(xmlsec1_verify_command(str(path), str(ca_pem), index, at),
                              capture_output=True, text=True, check=False)

    return _run
