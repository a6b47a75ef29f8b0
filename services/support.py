"""The support channel for districts and contractors (R26): a request and its Persian reply trail,
each message a document signed on its author's token at their station (like every state-changing
request: api.signed), kept with its author, role, unit and UTC time (shown Jalali).

    build_message(action, text, subject=None, request_id=None) -> SupportMessage (the station builds it)
    read_message(root)                                          -> (action, request id, subject, text)
    open_request(deps, doc)            -> the request's view (a district's staff or a contractor)
    add_message(deps, request_id, doc) -> the request's view after a reply or a close
    requests_for(deps, who, status)    -> the requests the person may see (support sees all)
    request_view(deps, request_id, who) -> one request with its trail

Statuses: `open` (new, or the requester wrote again), `answered` (the support desk replied), `closed`
(either side closed it; nothing is added after). The support desk is whoever holds the `support`
role (any unit) on the day of their session. A contractor whose request is answered is told by SMS
(services.notify, from the registry's contacts).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from domain.documents.xmlcommon import new_document, sub
from domain.persian import format_jalali_datetime, normalize
from domain.reasons import DomainError, Reason
from integrations.notifications import Template
from services.auth import VerifiedDocument
from services.deps import Deps
from services.notify import Notice, deliver, event_key
from services.signers import COMPANY_SIGNATORY
from store import models as m
from store.support import support_of

NS = "urn:tehran:eproc:support:1"
KIND = "SupportMessage"
_N = f"{{{NS}}}"
SUPPORT_ROLE = "support"
OPEN, ANSWERED, CLOSED = "open", "answered", "closed"
ACTIONS = ("open", "reply", "close")
STATUS_FA = {OPEN: "باز", ANSWERED: "پاسخ داده شده", CLOSED: "بسته"}
ACTION_FA = {"open": "درخواست", "reply": "پاسخ", "close": "بستن"}
MAX_SUBJECT, MAX_TEXT = 200, 4000


@dataclass(frozen=True)
class Who:
    """The session's person: national ID, role and unit (a district, or the company of its signatory)."""

    national_id: str
    role: str
    unit: str

    @property
    def is_support(self) -> bool:
        return self.role == SUPPORT_ROLE


def _text(value: object, what: str, limit: int) -> str:
    text = normalize(str(value or "")).strip()
    if len(text) > limit:
        raise DomainError(Reason.INVALID_INPUT, f"{what} بیش از {limit} نویسه است")
    return text


# --- the signed document -------------------------------------------------------------------------
def build_message(action: str, text: str, subject: str | None = None, request_id: int | None = None) -> etree._Element:
    """A SupportMessage: `open` (with `subject`), `reply` or `close` on request `request_id`.

    Raises: INVALID_INPUT (an unknown action, a text or subject too long or missing)."""
    if action not in ACTIONS:
        raise DomainError(Reason.INVALID_INPUT, f"اقدام ناشناخته: {action!r}")
    root, body = new_document(NS, KIND, 1)
    sub(body, "Action", action)
    if request_id is not None:
        sub(body, "Request", id=str(int(request_id)))
    if subject is not None:
        sub(body, "Subject", _text(subject, "موضوع", MAX_SUBJECT))
    sub(body, "Text", _text(text, "متن", MAX_TEXT))
    return root


def read_message(root: etree._Element) -> tuple[str, int | None, str | None, str]:
    """(action, request id or None, subject or None, text) of a SupportMessage.

    Raises: MALFORMED_XML (not a SupportMessage); INVALID_INPUT (a missing or malformed part)."""
    if root.tag != f"{_N}{KIND}":
        raise DomainError(Reason.MALFORMED_XML, f"سند باید «{KIND}» باشد")
    body = root.find(f"{_N}Body")
    if body is None:
        raise DomainError(Reason.MALFORMED_XML, "سند Body ندارد")

    def one(name: str) -> etree._Element | None:
        found = body.findall(f"{_N}{name}")
        if len(found) > 1:
            raise DomainError(Reason.INVALID_INPUT, f"بخش «{name}» بیش از یک بار آمده است")
        return found[0] if found else None

    action_el, request_el, subject_el, text_el = one("Action"), one("Request"), one("Subject"), one("Text")
    action = (action_el.text or "").strip() if action_el is not None else ""
    if action not in ACTIONS:
        raise DomainError(Reason.INVALID_INPUT, f"اقدام ناشناخته: {action!r}")
    request_id: int | None = None
    if request_el is not None:
        raw = request_el.get("id", "")
        if not raw.isascii() or not raw.isdigit():
            raise DomainError(Reason.INVALID_INPUT, f"شمارهٔ درخواست نامعتبر: {raw!r}")
        request_id = int(raw)
    subject = _text(subject_el.text, "موضوع", MAX_SUBJECT) if subject_el is not None else None
    text = _text(text_el.text if text_el is not None else "", "متن", MAX_TEXT)
    if not text and action != "close":
        raise DomainError(Reason.FIELD_MISSING, "متن پیام")
    return action, request_id, subject, text


# --- steps ---------------------------------------------------------------------------------------
def open_request(deps: Deps, doc: VerifiedDocument) -> dict[str, Any]:
    """Open a request from a signed SupportMessage(`open`, subject, text) of the session's person
    (`doc`, verified at receipt). The same signed document again returns the same request.

    Raises: INVALID_INPUT (another action, a request id given), FIELD_MISSING (no subject or text),
    MALFORMED_XML. Rule: R26."""
    action, request_id, subject, text = read_message(doc.root)
    if action != "open" or request_id is not None:
        raise DomainError(Reason.INVALID_INPUT, "برای گشودن درخواست، اقدام باید «open» و بی شمارهٔ درخواست باشد")
    if not subject:
        raise DomainError(Reason.FIELD_MISSING, "موضوع")
    who = Who(doc.national_id, doc.role, doc.unit)
    with deps.uow() as uow:
        repo = support_of(uow)
        again = repo.message_by_sha256(doc.sha256)
        if again is not None:
            return _view(repo.request(again.request_id), repo.messages(again.request_id))
        row = repo.add_request(m.SupportRequest(requester_national_id=who.national_id, requester_role=who.role,
                                                requester_unit=who.unit, subject=subject, status=OPEN,
                                                opened_at=doc.received_at, updated_at=doc.received_at))
        repo.add_message(_message(row.id, 1, action, who, text, doc))
        uow.record(at=doc.received_at, actor=who.national_id, action="support.opened", entity="support_request",
                   entity_id=str(row.id), payload={"role": who.role, "unit": who.unit, "sha256": doc.sha256})
        uow.commit()
        return _view(row, repo.messages(row.id))


def add_message(deps: Deps, request_id: int, doc: VerifiedDocument) -> dict[str, Any]:
    """A reply or a close on request `request_id` from the session's person: the requester or the
    support desk. A support reply makes it `answered` and tells a contractor requester by SMS; the
    requester's reply makes it `open` again; a close makes it `closed`. The same signed document again
    changes nothing.

    Raises: NOT_FOUND (no such request), NOT_AUTHORISED (neither the requester nor support),
    WRONG_STAGE (the request is closed), INVALID_INPUT (an `open`, another request's id),
    FIELD_MISSING (an empty reply), MALFORMED_XML. Rule: R26."""
    action, named, _, text = read_message(doc.root)
    if action == "open" or (named is not None and named != request_id):
        raise DomainError(Reason.INVALID_INPUT, "پیام باید پاسخ یا بستن همین درخواست باشد")
    who = Who(doc.national_id, doc.role, doc.unit)
    with deps.uow() as uow:
        repo = support_of(uow)
        row = repo.request(request_id)
        if row is None:
            raise DomainError(Reason.NOT_FOUND, f"درخواست پشتیبانی {request_id} نیست")
        _may_see(row, who)
        if repo.message_by_sha256(doc.sha256) is not None:
            return _view(row, repo.messages(row.id))
        if row.status == CLOSED:
            raise DomainError(Reason.WRONG_STAGE, f"درخواست پشتیبانی {request_id} بسته شده است")
        seq = repo.next_seq(row.id)
        repo.add_message(_message(row.id, seq, action, who, text, doc))
        row.status = CLOSED if action == "close" else ANSWERED if who.is_support else OPEN
        row.updated_at = doc.received_at
        uow.record(at=doc.received_at, actor=who.national_id, action=f"support.{action}", entity="support_request",
                   entity_id=str(row.id), payload={"seq": seq, "status": row.status, "sha256": doc.sha256})
        uow.commit()
        view = _view(row, repo.messages(row.id))
    if action == "reply" and who.is_support and row.requester_role == COMPANY_SIGNATORY:
        company = row.requester_unit
        deliver(deps, [Notice(company, company, Template.SUPPORT_REPLY,
                              {"request_id": str(row.id), "subject": row.subject},
                              event_key("support_reply", f"{row.id}/{seq}", company))])
    return view


def requests_for(deps: Deps, who: Who, status: str | None = None) -> list[dict[str, Any]]:
    """The requests `who` may see, newest first, without their trails: the support desk sees every
    request, anyone else their own. Raises: INVALID_INPUT (an unknown status)."""
    if status is not None and status not in STATUS_FA:
        raise DomainError(Reason.INVALID_INPUT, f"وضعیت ناشناخته: {status!r}")
    with deps.uow() as uow:
        rows = support_of(uow).requests(national_id=None if who.is_support else who.national_id, status=status)
        return [_summary(r) for r in rows]


def request_view(deps: Deps, request_id: int, who: Who) -> dict[str, Any]:
    """One request with its trail, for its requester or the support desk.

    Raises: NOT_FOUND, NOT_AUTHORISED."""
    with deps.uow() as uow:
        repo = support_of(uow)
        row = repo.request(request_id)
        if row is None:
            raise DomainError(Reason.NOT_FOUND, f"درخواست پشتیبانی {request_id} نیست")
        _may_see(row, who)
        return _view(row, repo.messages(row.id))


def _may_see(row: m.SupportRequest, who: Who) -> None:
    if not who.is_support and row.requester_national_id != who.national_id:
        raise DomainError(Reason.NOT_AUTHORISED, f"درخواست پشتیبانی {row.id} از آنِ شما نیست")


def _message(request_id: int, seq: int, action: str, who: Who, text: str, doc: VerifiedDocument) -> m.SupportMessage:
    return m.SupportMessage(request_id=request_id, seq=seq, action=action, author_national_id=who.national_id,
                            author_role=who.role, author_unit=who.unit, text=text, at=doc.received_at,
                            document_sha256=doc.sha256, signed_xml=doc.xml)


def _summary(row: m.SupportRequest) -> dict[str, Any]:
    return {"id": row.id, "subject": row.subject, "status": row.status, "status_fa": STATUS_FA[row.status],
            "requester": {"national_id": row.requester_national_id, "role": row.requester_role,
                          "unit": row.requester_unit,
                          "kind": "contractor" if row.requester_role == COMPANY_SIGNATORY else "district"},
            "opened_at": row.opened_at.isoformat(), "opened_at_jalali": format_jalali_datetime(row.opened_at),
            "updated_at": row.updated_at.isoformat(), "updated_at_jalali": format_jalali_datetime(row.updated_at)}


def _view(row: m.SupportRequest | None, messages: Any) -> dict[str, Any]:
    if row is None:  # a message without its request: the foreign key makes this impossible
        raise DomainError(Reason.STORE_TAMPERED, "پیام پشتیبانی بی درخواست")
    return {**_summary(row), "messages": [{
        "seq": msg.seq, "action": msg.action, "action_fa": ACTION_FA[msg.action],
        "author": {"national_id": msg.author_national_id, "role": msg.author_role, "unit": msg.author_unit},
        "text": msg.text, "at": msg.at.isoformat(), "at_jalali": format_jalali_datetime(msg.at),
        "sha256": msg.document_sha256} for msg in messages]}
