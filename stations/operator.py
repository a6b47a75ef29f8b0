"""The operators' stations (issue 11 part 3; R02, R09): the contracts officer imports price lists and
creates tenders, the deputy approves price lists and formulas, the unit's authorised signatory signs
the notice. Each function takes a `Station` already logged in with the role it needs, and signs only
what that station itself has read and checked.

    import_price_list(officer, content)                 -> the stored version's status (dict)
    approve_price_list(deputy, list_id, version, ref)   -> its status with the approval
    approve_formula(deputy, formula_id, version, ref)   -> the formula's status with the approval
    create_tender(officer, data, file_name)             -> {tender_id, unit, estimate_rial, ...}
    sign_notice(chair, tender_id, unit, ca_pem)         -> (published XML, NoticeContent)

Every function raises what the station raises (the API's refusals with their reason codes,
STORE_UNREACHABLE, TOKEN_*) plus the checks named in its docstring.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from domain.documents.notice import NoticeContent, TenderRequest, build_tender_request, read_notice
from domain.documents.pricelist import (
    FormulaApproval,
    PriceItem,
    PriceListApproval,
    PriceListContent,
    build_formula_approval,
    build_price_list_approval,
    build_price_list_import,
    expression_digest,
    items_digest,
)
from domain.reasons import DomainError, Reason
from domain.xmlsafe import parse_untrusted
from services.tender.files import parse_tender_file
from stations.client import Station
from stations.verify import verify_notice


def price_list_path(list_id: str, version: int) -> str:
    return f"/v1/pricelists/{quote(list_id, safe='/')}/versions/{version}"


def formula_path(formula_id: str, version: int) -> str:
    return f"/v1/formulas/{quote(formula_id, safe='')}/versions/{version}"


def import_price_list(officer: Station, content: PriceListContent) -> dict[str, Any]:
    """Send the price-list version `content` (read at the station: services.pricelists.read_price_file)
    signed on the officer's token; returns its status as stored, awaiting the deputy's approval."""
    data: dict[str, Any] = officer.post_signed("/v1/pricelists", build_price_list_import(content)).json()
    return data


def approve_price_list(deputy: Station, list_id: str, version: int, council_ref: str,
                       show: Callable[[list[PriceItem], str], None] | None = None) -> dict[str, Any]:
    """Fetch the imported version, recompute its items' digest here, show it (`show(items, digest)`)
    and sign an approval naming that digest, so the signature covers exactly the prices this station
    saw. Raises: INVALID_INPUT (the digest the server states is not that of the items it sent).
    Rule: R09 (price lists approved by the responsible deputy, the technical council's reference)."""
    shown = deputy.get(price_list_path(list_id, version)).json()
    items = [PriceItem(i["code"], i["unit"], int(i["unit_price"])) for i in shown["items"]]
    digest = items_digest(items)
    if digest != shown["items_sha256"]:
        raise DomainError(Reason.INVALID_INPUT, "چکیدهٔ ردیف‌های فهرست بها با ردیف‌های دریافتی نمی‌خواند")
    if show is not None:
        show(items, digest)
    doc = build_price_list_approval(PriceListApproval(list_id, version, shown["domain"], digest, council_ref))
    data: dict[str, Any] = deputy.post_signed(price_list_path(list_id, version) + "/approval", doc).json()
    return data


def approve_formula(deputy: Station, formula_id: str, version: int, council_ref: str,
                    show: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Fetch the policy's formula version, check its digest here, show it (`show(expression)`) and
    sign its approval. Raises: INVALID_INPUT (digest mismatch). Rule: R09."""
    shown = deputy.get(formula_path(formula_id, version)).json()
    if expression_digest(shown["expression"]) != shown["expression_sha256"]:
        raise DomainError(Reason.INVALID_INPUT, "چکیدهٔ متن فرمول با متن دریافتی نمی‌خواند")
    if show is not None:
        show(shown["expression"])
    doc = build_formula_approval(FormulaApproval(formula_id, version, shown["expression"], council_ref))
    data: dict[str, Any] = deputy.post_signed(formula_path(formula_id, version) + "/approval", doc).json()
    return data


def create_tender(officer: Station, data: bytes, file_name: str) -> dict[str, Any]:
    """Create a tender from the tender file `data` (UTF-8 TOML), checked here first with the server's
    own parser, sent byte for byte in a TenderRequest signed on the officer's token.
    Raises: INVALID_INPUT (the file, before anything is sent). Rule: issue 11 part 3; R02."""
    tf = parse_tender_file(data, file_name)
    doc = build_tender_request(TenderRequest(tf.tender.id, tf.tender.unit, file_name, data))
    out: dict[str, Any] = officer.post_signed("/v1/tenders", doc).json()
    return out


# How the server reports the tender's run it scheduled (api.routers.tenders).
SCHEDULE_HEADERS = {"id": "X-Eproc-Run-Id", "scheduled_for": "X-Eproc-Run-Scheduled-For",
                    "problem": "X-Eproc-Schedule-Problem"}


def sign_notice(signatory: Station, tender_id: str, unit: str, ca_pem: bytes,
                show: Callable[[NoticeContent], None] | None = None,
                scheduled: Callable[[dict[str, str]], None] | None = None) -> tuple[bytes, NoticeContent]:
    """Fetch the notice as it would be published now, check it is this tender's and unit's, show it
    (`show(content)`), sign it on the signatory's token and send it; verify the published notice
    (the signatory's and the engine's signatures, with `ca_pem`). Returns (published XML, content).
    `scheduled(info)` receives what the server says of the tender's run it scheduled at the opening
    time: `{"id", "scheduled_for"}`, `{"problem"}`, or `{}` (a server without a workflow engine).
    Raises: INVALID_INPUT (a draft of another tender or unit), and verify_notice's reasons.
    Rule: R02 (the notice signed by the unit's authorised signatory), R27 (its wording)."""
    draft = parse_untrusted(signatory.get(f"/v1/tenders/{tender_id}/notice/draft").content)
    shown = read_notice(draft)
    if shown.tender_id != tender_id or shown.unit != unit:
        raise DomainError(Reason.INVALID_INPUT, "پیش‌نویس آگهی از آنِ مناقصه یا واحد دیگری است")
    if show is not None:
        show(shown)
    answer = signatory.post_signed(f"/v1/tenders/{tender_id}/notice", draft)
    if scheduled is not None:
        scheduled({name: answer.headers[header] for name, header in SCHEDULE_HEADERS.items() if header in answer.headers})
    return answer.content, verify_notice(answer.content, ca_pem)
