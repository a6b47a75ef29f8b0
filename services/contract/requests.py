"""The documents people sign at their stations for a contract and its status statements (issue 13;
R12, R13, R17, R29; "Stations and trust"), built by the station and read by the engine from the
same code, and the one check of a signature appended to a stored document.

    build_opening(tender_id, bidder=None)                      -> ContractOpening (contracts officer)
    build_terms(tracking_number, tender_id, TermsEntry)        -> ContractTermsEntry (contracts officer)
    build_stage(tracking_number, tender_id, stage, role, sha)  -> ContractStage (the stage's approver)
    build_submission(tracking_number, tender_id, ref, items, vehicles, workers) -> StatementSubmission
    read_*(root)                                               -> the same values, checked
    appended_signature(stored_xml, upload_xml)                 -> the stored document plus one new signature

Each is wrapped in a SignedDocument and signed on the person's token (stations.client.Station.sign);
the engine verifies it at receipt (services.auth.verify_actor_document)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from lxml import etree

from domain.documents.xmlcommon import new_document, sub
from domain.persian import normalize
from domain.reasons import DomainError, Reason
from domain.xmlsafe import parse_untrusted
from signing.xmldsig import content_of, envelope, is_envelope, signature_elements

NS = "urn:tehran:eproc:contract-request:1"
OPENING, TERMS, STAGE, SUBMISSION = "ContractOpening", "ContractTermsEntry", "ContractStage", "StatementSubmission"
_N = f"{{{NS}}}"
MAX_ITEMS = 10_000


def _invalid(detail: str) -> DomainError:
    return DomainError(Reason.INVALID_INPUT, detail)


def _text(value: object, what: str, limit: int = 100) -> str:
    text = normalize(str(value or "")).strip()
    if len(text) > limit:
        raise _invalid(f"{what} بیش از {limit} نویسه است")
    return text


def _one(body: etree._Element, name: str) -> etree._Element | None:
    found = body.findall(f"{_N}{name}")
    if len(found) > 1:
        raise _invalid(f"بخش «{name}» بیش از یک بار آمده است")
    return found[0] if found else None


def _body(root: etree._Element, kind: str) -> etree._Element:
    if root.tag != f"{_N}{kind}":
        raise DomainError(Reason.MALFORMED_XML, f"سند باید «{kind}» باشد")
    body = root.find(f"{_N}Body")
    if body is None:
        raise DomainError(Reason.MALFORMED_XML, "سند Body ندارد")
    return body


def _contract_ref(body: etree._Element) -> tuple[str, str]:
    el = _one(body, "Contract")
    if el is None:
        raise _invalid("سند قرارداد را نام نمی‌برد")
    return el.get("tracking_number", ""), el.get("tender_id", "")


# --- opening ---------------------------------------------------------------------------------------------
def build_opening(tender_id: str, bidder: str | None = None) -> etree._Element:
    """The contracts officer's request to open the contract of `tender_id` from its final minutes,
    for `bidder` (default: the winner the minutes state)."""
    root, body = new_document(NS, OPENING, 1)
    sub(body, "Tender", id=_text(tender_id, "شناسهٔ مناقصه"), bidder=_text(bidder, "پیشنهاددهنده") or None)
    return root


def read_opening(root: etree._Element) -> tuple[str, str | None]:
    """(tender id, bidder or None) of a ContractOpening. Raises: MALFORMED_XML, INVALID_INPUT."""
    el = _one(_body(root, OPENING), "Tender")
    if el is None or not el.get("id"):
        raise _invalid("شناسهٔ مناقصه در سند گشایش قرارداد نیست")
    return el.get("id", ""), el.get("bidder") or None


# --- terms -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TermsEntry:
    """What the contracts officer enters (None: unchanged): the unit's budget-line code (from the
    budget-line registry), the expense-factor code (its registry), the budget-allocation code (کد تأمین
    اعتبار), the supervisor's and the employer signatories' national IDs (the role registry), the
    contract kind (domain.contract.fields.CONTRACT_KINDS), a waste contract's minimum vehicles and
    workers and rial penalties per missing one, and other mandatory fields of the kind (name -> text)."""

    budget_line: str | None = None
    expense_factor: str | None = None
    budget_allocation: str | None = None
    supervisor: str | None = None
    employer_signatories: tuple[str, ...] | None = None
    kind: str | None = None
    waste: dict[str, int] | None = None
    fields: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"budget_line": self.budget_line, "expense_factor": self.expense_factor,
                "budget_allocation": self.budget_allocation, "supervisor": self.supervisor,
                "employer_signatories": list(self.employer_signatories) if self.employer_signatories is not None
                else None, "kind": self.kind, "waste": self.waste, "fields": dict(self.fields)}


WASTE_KEYS = ("min_vehicles", "min_workers", "penalty_per_missing_vehicle_rial", "penalty_per_missing_worker_rial")


def build_terms(tracking_number: str, tender_id: str, terms: TermsEntry) -> etree._Element:
    """The ContractTermsEntry of `terms` for the contract `tracking_number` of `tender_id`.

    Raises: INVALID_INPUT (a text too long, waste terms incomplete)."""
    root, body = new_document(NS, TERMS, 1)
    sub(body, "Contract", tracking_number=tracking_number, tender_id=tender_id)
    if terms.budget_line is not None:
        sub(body, "BudgetLine", code=_text(terms.budget_line, "ردیف بودجه", 60))
    if terms.expense_factor is not None:
        sub(body, "ExpenseFactor", code=_text(terms.expense_factor, "عامل هزینه", 60))
    if terms.budget_allocation is not None:
        sub(body, "BudgetAllocation", code=_text(terms.budget_allocation, "کد تأمین اعتبار", 60))
    if terms.supervisor is not None:
        sub(body, "Supervisor", national_id=_text(terms.supervisor, "ناظر", 10))
    for nid in terms.employer_signatories or ():
        sub(body, "EmployerSignatory", national_id=_text(nid, "امضاکنندهٔ کارفرما", 10))
    if terms.kind is not None:
        sub(body, "Kind", value=_text(terms.kind, "نوع قرارداد", 30))
    if terms.waste is not None:
        if set(terms.waste) != set(WASTE_KEYS):
            raise _invalid("شرایط پسماند: " + "، ".join(WASTE_KEYS) + " همه لازم است")
        waste = sub(body, "Waste")
        for k in WASTE_KEYS:
            waste.set(k, str(int(terms.waste[k])))
    for name, value in sorted(terms.fields.items()):
        sub(body, "Field", _text(value, name, 500), field=_text(name, "نام قلم", 60))
    return root


def read_terms(root: etree._Element) -> tuple[str, str, TermsEntry]:
    """(tracking number, tender id, TermsEntry) of a ContractTermsEntry.

    Raises: MALFORMED_XML, INVALID_INPUT (a value that is not a whole number, a repeated part)."""
    body = _body(root, TERMS)
    tracking, tender = _contract_ref(body)

    def code(name: str) -> str | None:
        el = _one(body, name)
        return None if el is None else _text(el.get("code"), name, 60)

    sup = _one(body, "Supervisor")
    kind = _one(body, "Kind")
    signatories = [el.get("national_id", "") for el in body.findall(f"{_N}EmployerSignatory")]
    waste_el = _one(body, "Waste")
    waste = None
    if waste_el is not None:
        try:
            waste = {k: int(waste_el.get(k, "")) for k in WASTE_KEYS}
        except ValueError:
            raise _invalid("شرایط پسماند باید عدد صحیح باشد") from None
    fields = {}
    for el in body.findall(f"{_N}Field"):
        name = _text(el.get("field"), "نام قلم", 60)
        if name in fields:
            raise _invalid(f"قلم «{name}» بیش از یک بار آمده است")
        fields[name] = _text(el.text, name, 500)
    return tracking, tender, TermsEntry(code("BudgetLine"), code("ExpenseFactor"), code("BudgetAllocation"),
                                        None if sup is None else _text(sup.get("national_id"), "ناظر", 10),
                                        tuple(signatories) if signatories else None,
                                        None if kind is None else _text(kind.get("value"), "نوع", 30), waste, fields)


# --- stage approval ---------------------------------------------------------------------------------------
def build_stage(tracking_number: str, tender_id: str, stage: str, role: str, contract_sha256: str) -> etree._Element:
    """The approval of `stage` as `role`, naming the SHA-256 of the contract document's body the
    approver read (services.contract.at_stations.contract_to_sign)."""
    root, body = new_document(NS, STAGE, 1)
    sub(body, "Contract", tracking_number=tracking_number, tender_id=tender_id)
    sub(body, "Stage", stage=stage, role=role)
    sub(body, "Document", sha256=contract_sha256)
    return root


def read_stage(root: etree._Element) -> tuple[str, str, str, str, str]:
    """(tracking number, tender id, stage, role, contract body SHA-256) of a ContractStage.

    Raises: MALFORMED_XML, INVALID_INPUT."""
    body = _body(root, STAGE)
    tracking, tender = _contract_ref(body)
    stage, doc = _one(body, "Stage"), _one(body, "Document")
    if stage is None or doc is None:
        raise _invalid("سند تأیید مرحله، مرحله یا چکیدهٔ قرارداد را ندارد")
    return tracking, tender, stage.get("stage", ""), stage.get("role", ""), doc.get("sha256", "")


# --- status statement -------------------------------------------------------------------------------------
def build_submission(tracking_number: str, tender_id: str, ref: str, items: Iterable[tuple[str, Decimal]],
                     vehicles: int | None = None, workers: int | None = None) -> etree._Element:
    """The contractor's cumulative statement `ref`: quantity to date per price-list item, and for
    waste services the active vehicles and workers (R17, R18)."""
    root, body = new_document(NS, SUBMISSION, 1)
    sub(body, "Contract", tracking_number=tracking_number, tender_id=tender_id)
    sub(body, "Statement", ref=_text(ref, "شناسهٔ صورت‌وضعیت", 40))
    for code, qty in items:
        sub(body, "Item", code=_text(code, "کد ردیف", 40), quantity=format(Decimal(qty), "f"))
    if vehicles is not None or workers is not None:
        sub(body, "Resources", vehicles=vehicles, workers=workers)
    return root


def read_submission(root: etree._Element) -> tuple[str, str, str, tuple[tuple[str, Decimal], ...],
                                                   int | None, int | None]:
    """(tracking number, tender id, ref, items, vehicles, workers) of a StatementSubmission.

    Raises: MALFORMED_XML; INVALID_INPUT (no ref, no item, a repeated item, a quantity or count that
    is not a non-negative number)."""
    body = _body(root, SUBMISSION)
    tracking, tender = _contract_ref(body)
    st = _one(body, "Statement")
    ref = _text(st.get("ref") if st is not None else "", "شناسهٔ صورت‌وضعیت", 40)
    if not ref:
        raise _invalid("شناسهٔ صورت‌وضعیت لازم است")
    items: list[tuple[str, Decimal]] = []
    for el in body.findall(f"{_N}Item"):
        try:
            qty = Decimal(el.get("quantity", ""))
        except InvalidOperation:
            raise _invalid(f"مقدار ردیف «{el.get('code')}» عدد نیست") from None
        if not qty.is_finite() or qty < 0:
            raise _invalid(f"مقدار ردیف «{el.get('code')}» نامعتبر است")
        items.append((_text(el.get("code"), "کد ردیف", 40), qty))
    if not items or len(items) > MAX_ITEMS or len({c for c, _ in items}) != len(items):
        raise _invalid("صورت‌وضعیت باید ردیف‌های یکتا داشته باشد")
    res = _one(body, "Resources")

    def count(name: str) -> int | None:
        value = res.get(name) if res is not None else None
        if value is None:
            return None
        if not value.isdigit():
            raise _invalid(f"{name} باید عدد صحیح نامنفی باشد")
        return int(value)

    return tracking, tender, ref, tuple(items), count("vehicles"), count("workers")


# --- one more signature on a stored document --------------------------------------------------------------
def _c14n(el: etree._Element) -> bytes:
    return etree.tostring(el, method="c14n", exclusive=True, with_comments=False)


def appended_signature(stored_xml: bytes, upload_xml: bytes) -> bytes:
    """The stored document (`stored_xml`, a canonical document or a SignedDocument) with the one new
    signature `upload_xml` adds: the upload must be the stored content, its earlier signatures those
    stored, and exactly one signature more. Returns the new SignedDocument's bytes (UTF-8).

    Raises: MALFORMED_XML; WRONG_STAGE (stale: fewer earlier signatures than stored — fetch and sign
    again); INVALID_INPUT (another content, altered earlier signatures, more than one new signature,
    other elements, no new signature). Rule: "Stations and trust" (each signs the stored bytes)."""
    stored = parse_untrusted(stored_xml)
    stored = stored if is_envelope(stored) else envelope(stored)
    upload = parse_untrusted(upload_xml)
    if _c14n(content_of(upload)) != _c14n(content_of(stored)):
        raise _invalid("متن سند امضاشده همان سند ذخیره‌شدهٔ سامانه نیست")
    sigs = signature_elements(upload)
    if len([c for c in upload if isinstance(c.tag, str)]) != 1 + len(sigs):
        raise _invalid("سند امضاشده جز متن و امضاها بخش دیگری دارد")
    kept = signature_elements(stored)
    earlier = sigs[:-1]
    if not sigs or any(_c14n(a) != _c14n(b) for a, b in zip(earlier, kept, strict=False)):
        raise _invalid("امضاهای پیشین سند با امضاهای ثبت‌شده یکی نیست، یا امضای تازه‌ای ندارد")
    if len(earlier) < len(kept):
        raise DomainError(Reason.WRONG_STAGE, "پیش از رسیدن امضای شما امضای دیگری ثبت شد؛ سند را دوباره دریافت و امضا کنید")
    if len(earlier) > len(kept):
        raise _invalid("هر بار فقط یک امضای تازه پذیرفته می‌شود")
    stored.append(sigs[-1])
    return etree.tostring(stored, xml_declaration=True, encoding="UTF-8")
