"""Publication as OCDS, read from the engine's own store (R21: "the transparency site reads from the
transactions system directly").

A contract is on the site when the engine decided to publish it: it reached `final`, its stored
publication outcome (services.contract.publication.publish_contract) is `published`, and it was
concluded on or after the policy's cutoff (domain.contract.fields.publishable). Its release is
built here, at request time, from the same data and the same builder the publisher was given
(services.contract.publication.publication_data, integrations.ocds.release_for_contract); its date
is when the engine recorded the publication (the `contract.published` audit entry), so the release
the API serves is, id and date included, the one the site received. A contract whose data changed
since gets a new release id (the id is a digest of the content).

The contracting process of a contract is its tender: ocid = `{ocds.OCID_PREFIX}-{tender id}`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from domain.contract.fields import publishable
from domain.contract.workflow import FINAL
from domain.reasons import DomainError, Reason
from integrations import ocds
from integrations.stubs.transparency import missing_fields
from services.contract.document import data_of
from services.contract.publication import publication_data
from services.deps import Deps
from store import models as m

PUBLISHED = "published"
PUBLISHED_ACTION = "contract.published"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class ReleasePage:
    """One page of the published releases, oldest conclusion first: `page` counts from 1, `total`
    is the number of contracts on the site."""

    releases: list[dict[str, Any]]
    page: int
    page_size: int
    total: int

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.total

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def _on_site(deps: Deps, row: m.Contract) -> bool:
    publication = data_of(row).get("publication") or {}
    return (row.stage == FINAL and row.concluded_at is not None and bool(row.tender_id) and publication.get("status") == PUBLISHED
            and publishable(row.concluded_at, deps.policy.publication.cutoff))


def _published_rows(deps: Deps) -> list[m.Contract]:
    # Every final contract is read to filter on its stored outcome: fine for the pilot's volumes; a
    # paginated store query (offset/limit on published contracts) replaces it when volumes grow.
    with deps.uow() as uow:
        rows = [row for row in uow.reports.final_contracts() if _on_site(deps, row)]
    return sorted(rows, key=lambda r: (r.concluded_at or _EPOCH, r.id))


def _row_for_ocid(deps: Deps, ocid: str) -> m.Contract | None:
    process_id = ocds.process_id_of(ocid)
    if process_id is None:
        return None
    with deps.uow() as uow:
        row = uow.contracts.for_tender(process_id) or uow.contracts.by_code(process_id)
    return row if row is not None and _on_site(deps, row) else None


def _release(deps: Deps, row: m.Contract) -> dict[str, Any]:
    """The contract's release; Raises: FIELD_MISSING when its data is no longer complete."""
    data = publication_data(deps, row.tender_id or "")
    missing = missing_fields(data)
    if missing:
        raise DomainError(Reason.FIELD_MISSING, ", ".join(missing))
    with deps.uow() as uow:
        entry = uow.audit.last(PUBLISHED_ACTION, row.tracking_number)
    published_at = entry.at if entry is not None else row.concluded_at
    release = ocds.release_for_contract({**data, "release_date": published_at})
    errors = ocds.release_errors(release)
    if errors:
        raise DomainError(Reason.INVALID_INPUT, "; ".join(errors[:5]))
    return release


def _newest(releases: list[dict[str, Any]]) -> datetime:
    # An on-demand package is dated by the last change of what it holds (OCDS publishedDate).
    return max(datetime.fromisoformat(r["date"].replace("Z", "+00:00")) for r in releases)


def releases_for(deps: Deps, ocid: str) -> list[dict[str, Any]]:
    """The releases the engine publishes for the contracting process `ocid`.

    Raises: NOT_FOUND when nothing is published under it (unknown ocid, contract not final, not
    published, or concluded before the cutoff); FIELD_MISSING when its data is no longer complete.
    Rule: R21."""
    row = _row_for_ocid(deps, ocid)
    if row is None:
        raise DomainError(Reason.NOT_FOUND, f"برای «{ocid}» انتشاری در سامانهٔ معاملات نیست")
    return [_release(deps, row)]


def release_package(deps: Deps, ocid: str, uri: str | None = None) -> dict[str, Any]:
    """OCDS 1.1 release package of one contracting process (publisher from the policy's
    [publication]); `uri` is where it is served. Raises: as `releases_for`. Rule: R21."""
    releases = releases_for(deps, ocid)
    return ocds.release_package(releases, _newest(releases), deps.policy.publication.publisher, uri=uri)


def record_package(deps: Deps, ocid: str, uri: str | None = None,
                   release_package_uri: str | None = None) -> dict[str, Any]:
    """OCDS 1.1 record package of one contracting process: its releases embedded and the compiled
    release; `release_package_uri` (where its release package is served) goes into `packages`.
    Raises: as `releases_for`. Rule: R21."""
    releases = releases_for(deps, ocid)
    return ocds.record_package(releases, _newest(releases), deps.policy.publication.publisher, uri=uri,
                               packages=[release_package_uri] if release_package_uri else [])


def release_page(deps: Deps, page: int, page_size: int) -> ReleasePage:
    """Page `page` (from 1) of `page_size` published releases, ordered by conclusion time then
    registration, so a page keeps its content as later contracts are published. A contract whose
    data is no longer complete is left out of its page (its own ocid answers FIELD_MISSING).

    Raises: INVALID_INPUT for page < 1 or page_size < 1; NOT_FOUND for a page past the end (and for
    page 1 while nothing is published: a release package holds at least one release). Rule: R21."""
    if page < 1 or page_size < 1:
        raise DomainError(Reason.INVALID_INPUT, f"page={page}, page_size={page_size}")
    rows = _published_rows(deps)
    chunk = rows[(page - 1) * page_size: page * page_size]
    if not chunk:
        raise DomainError(Reason.NOT_FOUND, f"صفحهٔ {page} از انتشارها وجود ندارد ({len(rows)} انتشار)")
    releases = []
    for row in chunk:
        try:
            releases.append(_release(deps, row))
        except DomainError as exc:
            if exc.reason not in (Reason.FIELD_MISSING, Reason.INVALID_INPUT):
                raise
    return ReleasePage(releases, page, page_size, len(rows))


def page_package(deps: Deps, page: ReleasePage, uri: str | None = None, next_uri: str | None = None,
                 prev_uri: str | None = None) -> dict[str, Any]:
    """The release package of one page, with the pagination extension's `links` (next, prev) where
    there is such a page. Raises: FIELD_MISSING when every release of the page was left out."""
    links = {k: v for k, v in (("next", next_uri if page.has_next else None),
                               ("prev", prev_uri if page.has_prev else None)) if v}
    if not page.releases:
        raise DomainError(Reason.FIELD_MISSING, f"صفحهٔ {page.page}: هیچ انتشار کاملی ندارد")
    return ocds.release_package(page.releases, _newest(page.releases), deps.policy.publication.publisher,
                                uri=uri, links=links or None)
