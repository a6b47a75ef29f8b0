"""What outside systems read from the transactions system (R14, R18, R21, R28).

- contracts by code and status statements by id, for the financial system, project control and
  the other municipal systems (they fetch, nobody types it again);
- publication as OCDS 1.1: the release package and the record package of one contracting process
  and the paginated list of every published release, which the transparency site reads.

Publication data is public. Contracts and statements are for outside systems: every such route
takes `reader = Depends(outside_system)`, the one place where `api.security` puts its check
(today it lets every caller through; `app.dependency_overrides[outside_system]` replaces it too).
"""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from api.context import get_deps
from services import publication
from services.contract.read import contract_by_code, statement_by_id
from services.deps import Deps

router = APIRouter(prefix="/v1")

DepsParam = Annotated[Deps, Depends(get_deps)]
# One page of the release list; the largest page keeps one request's work bounded.
PAGE_SIZE = 100
MAX_PAGE_SIZE = 500

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "NOT_FOUND: یافت نشد / not found (JSON {reason, message_fa, detail})"}}


def outside_system(request: Request) -> str | None:
    """Which outside system is reading (its authenticated name), for contracts and statements.

    The hook for api.security: today it authenticates nobody and refuses nobody (returns None)."""
    return None


ReaderParam = Annotated[str | None, Depends(outside_system)]


@router.get(
    "/contracts/{code}", tags=["outside systems"], responses=_NOT_FOUND,
    summary="Contract by code / قرارداد با کد قرارداد",
    description="قرارداد ثبت‌شده با این کد، همان‌گونه که سامانهٔ معاملات نگه می‌دارد (R14، R28): مرحله، واحد، "
                "مبلغ به ریال، پیمانکار، ردیف بودجه، عامل هزینه، شمارهٔ پیگیری و تاریخ‌ها به UTC و شمسی. "
                "قراردادی که به مرحلهٔ نهایی نرسیده کد ندارد و از این راه یافت نمی‌شود.\n\n"
                "The contract registered under this code as the transactions system holds it (R14, R28): stage, "
                "unit, amount in rials, contractor, budget line, expense factor, tracking number, dates in UTC "
                "and Jalali. A contract that has not reached `final` has no code and is not found here.")
def get_contract(code: str, deps: DepsParam, reader: ReaderParam) -> dict[str, Any]:
    return contract_by_code(deps, code).to_dict()


@router.get(
    "/statements/{statement_id:path}", tags=["outside systems"], responses=_NOT_FOUND,
    summary="Status statement by id / صورت‌وضعیت با شناسه",
    description="صورت‌وضعیتِ تعیین‌تکلیف‌شده با شناسهٔ «شمارهٔ پیگیری قرارداد/شناسهٔ صورت‌وضعیت» (R18): نتیجه، "
                "مبلغ قابل پرداخت به ریال، امضاها و سند امضاشده (base64).\n\n"
                "The settled status statement `{contract tracking number}/{statement ref}` (R18): result, "
                "payable amount in rials, who signed, and the signed XML byte for byte (base64).")
def get_statement(statement_id: str, deps: DepsParam, reader: ReaderParam) -> dict[str, Any]:
    return statement_by_id(deps, statement_id).to_dict()


@router.get(
    "/ocds/releases", tags=["publication (OCDS)"], responses=_NOT_FOUND,
    summary="Published releases, paginated / فهرست انتشارها، صفحه‌به‌صفحه",
    description="بستهٔ انتشار OCDS 1.1 با انتشارهای یک صفحه، به ترتیب زمان انعقاد؛ `links.next` و `links.prev` "
                "نشانی صفحه‌های بعد و قبل‌اند (افزونهٔ صفحه‌بندی OCDS). سایت شفافیت از همین‌جا می‌خواند (R21).\n\n"
                "An OCDS 1.1 release package holding one page of the published releases, oldest conclusion "
                "first; `links.next` / `links.prev` (OCDS pagination extension) give the neighbouring pages. "
                "The transparency site reads from here (R21).")
def list_releases(request: Request, deps: DepsParam,
                  page: Annotated[int, Query(ge=1, description="page number, from 1 / شمارهٔ صفحه")] = 1,
                  page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE,
                                                  description="releases per page / انتشار در هر صفحه")] = PAGE_SIZE,
                  ) -> dict[str, Any]:
    result = publication.release_page(deps, page, page_size)

    def at(n: int) -> str:
        return str(request.url.include_query_params(page=n, page_size=page_size))

    return publication.page_package(deps, result, uri=at(page), next_uri=at(page + 1), prev_uri=at(page - 1))


@router.get(
    "/ocds/releases/{ocid}", tags=["publication (OCDS)"], responses=_NOT_FOUND, name="ocds_release_package",
    summary="Release package of a contracting process / بستهٔ انتشار یک فرایند",
    description="بستهٔ انتشار OCDS 1.1 فرایند قراردادی `ocid` (R21).\n\n"
                "The OCDS 1.1 release package of the contracting process `ocid` (R21).")
def get_release_package(ocid: str, request: Request, deps: DepsParam) -> dict[str, Any]:
    return publication.release_package(deps, ocid, uri=str(request.url))


@router.get(
    "/ocds/records/{ocid}", tags=["publication (OCDS)"], responses=_NOT_FOUND,
    summary="Record package of a contracting process / بستهٔ رکورد یک فرایند",
    description="بستهٔ رکورد OCDS 1.1 فرایند `ocid`: انتشارهایش و انتشار تلفیقی (R21).\n\n"
                "The OCDS 1.1 record package of `ocid`: its releases and the compiled release (R21).")
def get_record_package(ocid: str, request: Request, deps: DepsParam) -> dict[str, Any]:
    return publication.record_package(deps, ocid, uri=str(request.url),
                                      release_package_uri=str(request.url_for("ocds_release_package", ocid=ocid)))
