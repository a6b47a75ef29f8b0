"""R21: the transparency site reads publication from the transactions system directly, as OCDS.

A whole district-12 rehearsal (real flows, store, tokens, signatures) is run once per process; its
final, published contract is then read through the API: the release package and the record package
of its ocid and the paginated release list, each checked with the official OCDS 1.1.5 schemas
(integrations.ocds) and with the OCDS community's own checker, libcoveocds (the Data Review Tool's
library: schema, codelists and its additional checks), offline against the standard's schema zip.
The transparency stub then fetches over HTTP and gets the very release the engine published.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest

# Prefect reads its home when first imported: keep this process's test server state private.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="eproc-prefect-"))

from domain.reasons import Reason  # noqa: E402
from integrations import ocds  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
STANDARD_ZIP = ROOT.parent / "shared" / "ocds-1.1.5" / "standard-1__1__5-schema.zip"
# Fields outside OCDS 1.1.5 that these packages carry on purpose: the council's `tehran` object and
# the pagination extension's `links`.
OWN_FIELDS = {"tehran", "links"}
# Both API modules read one rehearsal per process: keep them on one xdist worker.
pytestmark = pytest.mark.xdist_group("api-district12")

_RUNS: dict[str, Any] = {}


# --- shared with test_r28_contracts_api ---------------------------------------------------------

def district12_world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The district-12 pilot world after a whole rehearsal (final, published contract, settled
    statements), built once per process: pilot.runner's own steps, keeping the world. Its flows run
    on the session's Prefect test server: every caller's fixture asks for `prefect_server`."""
    if "district12" not in _RUNS:
        from config.policy import load_policy
        from config.settings import BUNDLED_POLICY
        from pilot.contract_world import attach
        from pilot.runner import rehearse
        from pilot.scenario import BUNDLED, load_scenario
        from pilot.world import build_world
        from services.deps import use
        from signing.softhsm import SoftHsm

        SoftHsm.for_process(tmp_path_factory.mktemp("softhsm"))
        scenario = load_scenario(BUNDLED / "district-12-asphalt.toml")
        world = build_world(scenario, tmp_path_factory.mktemp("api-district12"), load_policy(BUNDLED_POLICY))
        attach(world)
        with use(world.deps):
            report = rehearse(world)
        assert report["publication"] == {"ocds_valid": True, "missing_fields": []}, report
        _RUNS["district12"] = (world, report)
    return _RUNS["district12"]


def client_for(deps: Any) -> Any:
    """A test client of the transactions system's app over `deps` (api.app.create_app)."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    return TestClient(create_app(deps), base_url="http://testserver")


def copy_of_world_deps(world: Any, directory: Path) -> Any:
    """The world's dependencies on a copy of its database (to change the store without changing the
    world the other tests read)."""
    from store.db import make_engine, session_factory

    target = directory / "copy.db"
    source, copy = sqlite3.connect(world.engine.url.database), sqlite3.connect(target)
    try:
        source.backup(copy)  # a consistent copy, write-ahead log included
    finally:
        source.close()
        copy.close()
    return dataclasses.replace(world.deps, sessions=session_factory(make_engine(f"sqlite:///{target}")))


# --- fixtures ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def world(tmp_path_factory, prefect_server):
    return district12_world(tmp_path_factory)[0]


@pytest.fixture(scope="module")
def client(world):
    with client_for(world.deps) as c:
        yield c


@pytest.fixture(scope="module")
def site_release(world) -> dict[str, Any]:
    """The release the transparency stub received in-process during the rehearsal."""
    releases = list(world.stubs["publisher"].releases())
    assert len(releases) == 1
    return releases[0]


class _StandardFromZip:
    """Stands in for `requests` inside jsonref while libcoveocds dereferences the record-package
    schema: that one reference (the versioned-release schema) is fetched by URL, where every other
    file comes from the standard's zip. It is answered from the same zip; no other URL is served."""

    PREFIX = "https://standard.open-contracting.org/schema/1__1__5/"

    class _Response:
        def __init__(self, text: bytes) -> None:
            self._text = text

        def raise_for_status(self) -> None:
            return None

        def json(self, **kwargs: Any) -> Any:
            return json.loads(self._text, **kwargs)

    def get(self, uri: str) -> _Response:
        import zipfile

        assert uri.startswith(self.PREFIX), f"libcoveocds asked for {uri}"
        with zipfile.ZipFile(STANDARD_ZIP) as z:
            return self._Response(z.read(f"standard-1__1__5/schema/{uri[len(self.PREFIX):]}"))


def cove(package: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """libcoveocds's report on `package` (schema 1.1 from the standard's zip, all additional checks)."""
    from unittest import mock

    import jsonref
    from libcoveocds.api import ocds_json_output
    from libcoveocds.config import LibCoveOCDSConfig

    assert STANDARD_ZIP.is_file(), f"the OCDS standard zip is missing: {STANDARD_ZIP}"
    config = LibCoveOCDSConfig()
    config.config["standard_zip"] = f"file://{STANDARD_ZIP}"
    config.config["additional_checks"] = "all"
    config.config["context"] = "api"
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "package.json"
    path.write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")
    with mock.patch.object(jsonref, "requests", _StandardFromZip()):
        return ocds_json_output(str(workdir / "cove"), str(path), None, convert=False,
                                lib_cove_ocds_config=config)


def assert_cove_clean(report: dict[str, Any], kind: str) -> None:
    """libcoveocds read it as a `kind` ("release" | "record") package of OCDS 1.1 and found no
    schema error, no value outside a closed codelist, nothing in its additional checks, and no
    field outside the standard but ours."""
    assert report["schema_url"].endswith(f"/{kind}-package-schema.json"), report["schema_url"]
    assert report["version_used"] == "1.1"
    assert report["validation_errors"] == []
    assert report["additional_closed_codelist_values"] == {}
    assert report.get("additional_checks") in ({}, None, [])
    assert {f["field"] for f in report["additional_fields"]} <= OWN_FIELDS


# --- tests -------------------------------------------------------------------------------------

def test_r21_release_package_of_an_ocid_is_valid_ocds_and_is_what_the_site_received(
        client, world, site_release, tmp_path):
    ocid = site_release["ocid"]
    assert ocid == ocds.ocid_for(world.scenario.scenario.name)
    response = client.get(f"/v1/ocds/releases/{ocid}")
    assert response.status_code == 200, response.text
    package = response.json()

    assert ocds.package_errors(package) == []
    assert_cove_clean(cove(package, tmp_path), "release")
    assert package["releases"] == [site_release]  # id (a digest of the content) and date included
    assert package["publisher"]["name"] == world.policy.publication.publisher
    assert package["uri"] == f"http://testserver/v1/ocds/releases/{ocid}"
    assert package["publishedDate"] == site_release["date"]


def test_r21_record_package_embeds_the_release_and_compiles_it(client, site_release, tmp_path):
    ocid = site_release["ocid"]
    response = client.get(f"/v1/ocds/records/{ocid}")
    assert response.status_code == 200, response.text
    package = response.json()

    assert ocds.record_package_errors(package) == []
    assert_cove_clean(cove(package, tmp_path), "record")
    [record] = package["records"]
    assert record["ocid"] == ocid and record["releases"] == [site_release]
    compiled = record["compiledRelease"]
    assert compiled["tag"] == ["compiled"] and compiled["id"] == f"{ocid}-{site_release['date']}"
    assert compiled["contracts"] == site_release["contracts"] and compiled["parties"] == site_release["parties"]
    assert package["packages"] == [f"http://testserver/v1/ocds/releases/{ocid}"]


def test_r21_a_record_compiles_every_release_of_its_process(site_release, tmp_path):
    """A contract corrected and republished (R31) gets a second release under the same ocid: the
    record keeps both, in date order, and its compiled release holds the newest values."""
    later = json.loads(json.dumps(site_release))
    later["id"], later["date"] = f"{site_release['id']}-2", "2030-01-01T00:00:00Z"
    later["contracts"][0]["value"]["amount"] += 1000
    later["contracts"][0]["documents"].append({"id": "annex", "documentType": "contractAnnexe", "title": "الحاقیه"})
    from datetime import datetime, timezone

    package = ocds.record_package([later, site_release], datetime(2030, 1, 1, tzinfo=timezone.utc), "test")
    assert ocds.record_package_errors(package) == []
    assert_cove_clean(cove(package, tmp_path), "record")
    [record] = package["records"]
    assert [r["id"] for r in record["releases"]] == [site_release["id"], later["id"]]
    compiled = record["compiledRelease"]
    assert compiled["date"] == later["date"] and compiled["id"] == f"{site_release['ocid']}-{later['date']}"
    assert compiled["contracts"][0]["value"]["amount"] == site_release["contracts"][0]["value"]["amount"] + 1000
    assert [d["id"] for d in compiled["contracts"][0]["documents"]] == \
        [d["id"] for d in site_release["contracts"][0]["documents"]] + ["annex"]
    assert compiled["parties"] == site_release["parties"]


def test_r21_unknown_ocid_is_not_found_with_its_reason(client):
    for ocid in ("ocds-thrnmu-no-such-tender", "ocds-other-district-12-asphalt", "x"):
        for kind in ("releases", "records"):
            response = client.get(f"/v1/ocds/{kind}/{ocid}")
            assert response.status_code == 404, (kind, ocid, response.text)
            body = response.json()
            assert body["reason"] == Reason.NOT_FOUND.value and body["message_fa"] and ocid in body["detail"]


def _publish_clones(deps: Any, tender_id: str, count: int) -> list[str]:
    """`count` more published contracts in `deps`'s store: copies of the tender and its contract
    (new ids, later conclusion), each with its publication recorded as the engine records it."""
    from datetime import timedelta

    from store import models as m

    ids = []
    with deps.uow() as uow:
        tender = uow.tenders.get(tender_id)
        contract = uow.contracts.for_tender(tender_id)
        entry = uow.audit.last("contract.published", contract.tracking_number)
        for n in range(1, count + 1):
            new_id = f"{tender_id}-copy{n}"
            uow.tenders.add(m.Tender(**{c.name: getattr(tender, c.name) for c in m.Tender.__table__.columns
                                        if c.name != "id"}, id=new_id))
            uow.session.flush()  # the tender row first: the contract refers to it
            # A copy is announced like its original: the same announcement record (digests included).
            announced = uow.audit.first("tender.announced", tender_id)
            uow.record(at=announced.at, actor="engine", action="tender.announced", entity="tender",
                       entity_id=new_id, payload=json.loads(announced.payload_json))
            when = contract.concluded_at + timedelta(days=n)
            fields = {c.name: getattr(contract, c.name) for c in m.Contract.__table__.columns if c.name != "id"}
            fields.update(tender_id=new_id, tracking_number=f"{contract.tracking_number}-{n}",
                          code=f"{contract.code}-{n}", concluded_at=when)
            uow.contracts.add(m.Contract(**fields))
            uow.session.flush()
            uow.record(at=entry.at + timedelta(days=n), actor="engine", action="contract.published",
                       entity="contract", entity_id=fields["tracking_number"], payload={"status": "published"})
            ids.append(new_id)
        uow.commit()
    return ids


def test_r21_release_list_is_paginated_with_next_and_prev_links(world, site_release, tmp_path):
    deps = copy_of_world_deps(world, tmp_path)
    clones = _publish_clones(deps, world.scenario.scenario.name, 4)  # five published contracts in all
    expected_ocids = [site_release["ocid"]] + [ocds.ocid_for(c) for c in clones]
    with client_for(deps) as client:
        pages, url = [], "/v1/ocds/releases?page=1&page_size=2"
        while url:
            response = client.get(url)
            assert response.status_code == 200, response.text
            package = response.json()
            assert ocds.package_errors(package) == []
            pages.append(package)
            url = package.get("links", {}).get("next")

        assert [len(p["releases"]) for p in pages] == [2, 2, 1]
        assert [r["ocid"] for p in pages for r in p["releases"]] == expected_ocids  # oldest conclusion first
        assert "prev" not in pages[0]["links"] and "next" not in pages[-1]["links"]
        assert pages[1]["links"] == {"next": "http://testserver/v1/ocds/releases?page=3&page_size=2",
                                     "prev": "http://testserver/v1/ocds/releases?page=1&page_size=2"}
        assert client.get(pages[2]["links"]["prev"]).json() == pages[1]
        assert_cove_clean(cove(pages[1], tmp_path / "page2"), "release")

        past_the_end = client.get("/v1/ocds/releases?page=4&page_size=2")
        assert past_the_end.status_code == 404 and past_the_end.json()["reason"] == Reason.NOT_FOUND.value
        for bad in ("page=0", "page_size=0", "page=x", "page_size=100000"):
            refused = client.get(f"/v1/ocds/releases?{bad}")
            assert refused.status_code == 422 and refused.json()["reason"] == Reason.INVALID_INPUT.value, bad
        one_page = client.get("/v1/ocds/releases").json()
        assert len(one_page["releases"]) == 5 and "links" not in one_page


def test_r21_transparency_stub_fetches_the_same_release_over_http(world, client, site_release, tmp_path):
    from integrations.stubs.transparency import TransparencyPublisherStub
    from integrations.transactions_http import HttpTransactionsSystem
    from store.stub_tables import create_stub_tables, sqlite_engine

    site_db = sqlite_engine(tmp_path / "site.db")  # the site's own database, not the engine's
    create_stub_tables(site_db)
    site = TransparencyPublisherStub(site_db, world.clock, publication_cutoff=world.policy.publication.cutoff,
                                     publisher_name=world.policy.publication.publisher)
    transactions = HttpTransactionsSystem(client=client, page_size=1)

    assert site.fetch(transactions, site_release["ocid"]) == [site_release["id"]]
    assert list(site.releases()) == [site_release]
    assert site.fetch(transactions) == [site_release["id"]]  # the whole list: nothing new, kept once
    assert list(site.releases()) == [site_release]
    assert transactions.record_package(site_release["ocid"])["records"][0]["releases"] == [site_release]

    assert transactions.release_package("ocds-thrnmu-no-such-tender") is None
    with pytest.raises(Exception) as refused:
        site.fetch(transactions, "ocds-thrnmu-no-such-tender")
    assert getattr(refused.value, "reason", None) is Reason.NOT_FOUND
    assert list(site.releases()) == [site_release]


def test_r21_a_contract_that_is_not_published_has_no_release(world, site_release, tmp_path):
    """The engine serves what it decided to publish: a contract whose publication was refused (or
    never happened) has no release, even at `final`."""
    deps = copy_of_world_deps(world, tmp_path)
    tender_id = world.scenario.scenario.name
    with deps.uow() as uow:
        row = uow.contracts.for_tender(tender_id)
        data = json.loads(row.data_json)
        data["publication"] = {**data["publication"], "status": "refused", "reason": "FIELD_MISSING"}
        row.data_json = json.dumps(data, ensure_ascii=False)
        uow.commit()
    with client_for(deps) as client:
        assert client.get(f"/v1/ocds/releases/{site_release['ocid']}").status_code == 404
        assert client.get(f"/v1/ocds/records/{site_release['ocid']}").status_code == 404
        assert client.get("/v1/ocds/releases").json()["reason"] == Reason.NOT_FOUND.value
