"""SQLAlchemy 2 models of the transactions system. Money: BigInteger rials. Times: aware UTC."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from store.columns import SurrogateKey, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Unit(Base):
    __tablename__ = "units"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))


class Person(Base):
    __tablename__ = "people"
    national_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    mobile: Mapped[str | None] = mapped_column(String(16))


class Company(Base):
    __tablename__ = "companies"
    national_id: Mapped[str] = mapped_column(String(11), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    economic_code: Mapped[str] = mapped_column(String(12))
    grade: Mapped[int] = mapped_column(Integer)
    ceo_national_id: Mapped[str | None] = mapped_column(ForeignKey("people.national_id"))


class RoleAssignment(SurrogateKey, Base):
    """A person holds a role in a unit for a period (roles are not in certificates)."""

    __tablename__ = "role_assignments"
    national_id: Mapped[str] = mapped_column(ForeignKey("people.national_id"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)  # exclusive
    alternate_for: Mapped[str | None] = mapped_column(String(10))
    __table_args__ = (Index("ix_role_unit_role", "unit_id", "role"),)


class CertificateRow(Base):
    __tablename__ = "certificates"
    serial: Mapped[str] = mapped_column(String(64), primary_key=True)  # decimal string: serials exceed 64 bits
    national_id: Mapped[str] = mapped_column(String(10), index=True)
    token_label: Mapped[str] = mapped_column(String(64))
    key_label: Mapped[str] = mapped_column(String(64))
    pem: Mapped[str] = mapped_column(Text)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    not_after: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoke_reason: Mapped[str | None] = mapped_column(String(100))
    # The RSA-OAEP variant this token really decrypts with, probed at enrollment.
    key_transport: Mapped[str | None] = mapped_column(String(40))


class PriceList(SurrogateKey, Base):
    __tablename__ = "price_lists"
    list_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    domain: Mapped[str] = mapped_column(String(60))
    approved_by: Mapped[str] = mapped_column(String(200))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    technical_council_ref: Mapped[str | None] = mapped_column(String(100))
    items: Mapped[list[PriceListItem]] = relationship(back_populates="price_list", cascade="all, delete-orphan",
                                                        order_by="PriceListItem.code")
    __table_args__ = (UniqueConstraint("list_id", "version"),)


class PriceListItem(SurrogateKey, Base):
    __tablename__ = "price_list_items"
    price_list_id: Mapped[int] = mapped_column(ForeignKey("price_lists.id"))
    code: Mapped[str] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(20))
    unit_price: Mapped[int] = mapped_column(BigInteger)
    price_list: Mapped[PriceList] = relationship(back_populates="items")
    __table_args__ = (UniqueConstraint("price_list_id", "code"),)


class FormulaRow(SurrogateKey, Base):
    __tablename__ = "formulas"
    formula_id: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    expression: Mapped[str] = mapped_column(Text)
    approved_by: Mapped[str] = mapped_column(String(200))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    technical_council_ref: Mapped[str] = mapped_column(String(100))
    __table_args__ = (UniqueConstraint("formula_id", "version"),)


class Tender(Base):
    __tablename__ = "tenders"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    procedure: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(String(60))
    estimate_rial: Mapped[int | None] = mapped_column(BigInteger)
    spec_json: Mapped[str] = mapped_column(Text)
    opening_plan_json: Mapped[str | None] = mapped_column(Text)
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    opening_at: Mapped[datetime] = mapped_column(UTCDateTime())
    price_opening_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Bid(SurrogateKey, Base):
    __tablename__ = "bids"
    tender_id: Mapped[str] = mapped_column(ForeignKey("tenders.id"), index=True)
    bidder_ref: Mapped[str] = mapped_column(String(64))
    company_id: Mapped[str] = mapped_column(String(11))
    seq: Mapped[int] = mapped_column(Integer)  # 1 for the first submission, +1 per replacement
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)  # ciphertexts only: nobody reads a bid before opening
    manifest_xml: Mapped[bytes] = mapped_column(LargeBinary)  # signed by the bidder
    receipt_xml: Mapped[bytes | None] = mapped_column(LargeBinary)  # signed by the engine
    refused_reason: Mapped[str | None] = mapped_column(String(60))  # a refused submission keeps no content
    __table_args__ = (UniqueConstraint("tender_id", "bidder_ref", "seq"),)


class Envelope(SurrogateKey, Base):
    __tablename__ = "envelopes"
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"), index=True)
    letter: Mapped[str] = mapped_column(String(1))
    sha256: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(60))
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    __table_args__ = (UniqueConstraint("bid_id", "letter"),)


class Session(SurrogateKey, Base):
    """A sitting of the Article 13 commission (opening, price opening)."""

    __tablename__ = "sessions"
    tender_id: Mapped[str] = mapped_column(ForeignKey("tenders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    held_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attendees_json: Mapped[str] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("tender_id", "kind"),)


class Minutes(SurrogateKey, Base):
    __tablename__ = "minutes"
    tender_id: Mapped[str] = mapped_column(ForeignKey("tenders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # article13 | article18
    version: Mapped[int] = mapped_column(Integer)
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (UniqueConstraint("tender_id", "kind", "version"),)


class SignatureRow(SurrogateKey, Base):
    __tablename__ = "signatures"
    document_kind: Mapped[str] = mapped_column(String(30))
    document_id: Mapped[str] = mapped_column(String(100), index=True)
    signer_national_id: Mapped[str] = mapped_column(String(10))
    role: Mapped[str] = mapped_column(String(40))
    cert_serial: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(String(60))  # null when it verified
    __table_args__ = (UniqueConstraint("document_kind", "document_id", "signer_national_id"),)


class Contract(SurrogateKey, Base):
    __tablename__ = "contracts"
    tracking_number: Mapped[str] = mapped_column(String(40), unique=True)
    code: Mapped[str | None] = mapped_column(String(40), unique=True)  # issued only at `final`
    tender_id: Mapped[str | None] = mapped_column(ForeignKey("tenders.id"))
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    stage: Mapped[str] = mapped_column(String(30))
    threshold_class: Mapped[str | None] = mapped_column(String(10))
    amount_rial: Mapped[int] = mapped_column(BigInteger)
    contractor_id: Mapped[str] = mapped_column(String(11))
    budget_line: Mapped[str | None] = mapped_column(String(60))
    expense_factor: Mapped[str | None] = mapped_column(String(60))
    concluded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    data_json: Mapped[str] = mapped_column(Text, default="{}")
    __table_args__ = (Index("ix_contracts_unit_stage", "unit_id", "stage"),)


class ContractApproval(SurrogateKey, Base):
    __tablename__ = "contract_approvals"
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    stage: Mapped[str] = mapped_column(String(30))
    approver_national_id: Mapped[str] = mapped_column(String(10))
    role: Mapped[str] = mapped_column(String(40))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    signature_ref: Mapped[str | None] = mapped_column(String(100))
    __table_args__ = (UniqueConstraint("contract_id", "stage"),)


class StatusStatement(SurrogateKey, Base):
    __tablename__ = "status_statements"
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    ref: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    cumulative_rial: Mapped[int] = mapped_column(BigInteger)
    gross_rial: Mapped[int] = mapped_column(BigInteger)
    payable_rial: Mapped[int] = mapped_column(BigInteger)
    penalty_rial: Mapped[int] = mapped_column(BigInteger, default=0)
    result: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(60))
    xml: Mapped[bytes | None] = mapped_column(LargeBinary)
    data_json: Mapped[str] = mapped_column(Text, default="{}")
    __table_args__ = (UniqueConstraint("contract_id", "ref"),)


class Payment(SurrogateKey, Base):
    __tablename__ = "payments"
    ref: Mapped[str] = mapped_column(String(40))
    statement_id: Mapped[int | None] = mapped_column(ForeignKey("status_statements.id"))
    payment_key: Mapped[str] = mapped_column(String(64), unique=True)
    result: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(60))
    amount_rial: Mapped[int] = mapped_column(BigInteger, default=0)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """Append-only, hash-chained. UNIQUE(prev_hash) keeps the chain linear under concurrency."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                     autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(80))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(60))
    payload_json: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # ix_audit_action: the readers that look an action up by entity (CRL records, receipts, finals).
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"), Index("ix_audit_action", "action", "entity_id"))


class AuditCheckpoint(SurrogateKey, Base):
    """The engine's signed statement of the audit chain's head (`seq`, `head_hash`), append-only;
    the same signed XML is published, so a rewritten or truncated log no longer matches it (R21)."""

    __tablename__ = "audit_checkpoints"
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)  # audit_log.seq of the head it signs
    head_hash: Mapped[str] = mapped_column(String(64))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(160))
    xml: Mapped[bytes] = mapped_column(LargeBinary)  # the signed checkpoint document


class AuthChallenge(Base):
    """A login challenge of the API (issue 11): the nonce a person signs on their token, answerable
    once (`used_at`) and only before `expires_at`. In the store rather than in a process's memory
    because several API processes run behind one proxy: any of them may receive the answer."""

    __tablename__ = "auth_challenges"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, hex
    national_id: Mapped[str] = mapped_column(String(10))
    nonce: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PriceListImport(SurrogateKey, Base):
    """A price-list version as an operator imported it (issue 11 part 3), waiting for the deputy's
    token-signed approval (R09). Only an approved version reaches `price_lists`, the table tenders
    are priced from; `items_json` holds [[code, unit, unit price in rials], ...] in code order and
    `items_sha256` its digest, the value the approval names."""

    __tablename__ = "price_list_imports"
    list_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    domain: Mapped[str] = mapped_column(String(60))
    items_json: Mapped[str] = mapped_column(Text)
    items_sha256: Mapped[str] = mapped_column(String(64))
    imported_by: Mapped[str] = mapped_column(String(10))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    request_xml: Mapped[bytes] = mapped_column(LargeBinary)  # the operator's signed import document
    __table_args__ = (UniqueConstraint("list_id", "version"),)


class Approval(SurrogateKey, Base):
    """A token-signed approval (R09): of a price-list version or a formula version, by the deputy,
    with the technical council's reference; `xml` is the signed document as received."""

    __tablename__ = "approvals"
    kind: Mapped[str] = mapped_column(String(20))  # price_list | formula
    subject: Mapped[str] = mapped_column(String(100))  # list id or formula id
    version: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String(64))  # items digest, or the expression's
    signer_national_id: Mapped[str] = mapped_column(String(10))
    signer_role: Mapped[str] = mapped_column(String(40))
    signer_unit: Mapped[str] = mapped_column(String(64))
    cert_serial: Mapped[str] = mapped_column(String(64))
    technical_council_ref: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    __table_args__ = (UniqueConstraint("kind", "subject", "version"),)


class TenderDraft(Base):
    """A tender created from a tender file (issue 11 part 3), before its notice is signed: the
    operator's signed request, the parsed specification, commission, price list and formulas
    (`data_json`), the estimate, and the opening-key plan (public material and wrapped shares only)."""

    __tablename__ = "tender_drafts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    request_xml: Mapped[bytes] = mapped_column(LargeBinary)
    data_json: Mapped[str] = mapped_column(Text)
    estimate_rial: Mapped[int] = mapped_column(BigInteger)
    opening_plan_json: Mapped[str] = mapped_column(Text)


class TenderNotice(SurrogateKey, Base):
    """The published notice of a tender: signed by the unit's signatory, countersigned by the engine
    (the XML bidders verify before sealing)."""

    __tablename__ = "tender_notices"
    tender_id: Mapped[str] = mapped_column(ForeignKey("tenders.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    signer_national_id: Mapped[str] = mapped_column(String(10))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (UniqueConstraint("tender_id", "version"),)


class SessionKey(SurrogateKey, Base):
    """The engine's key for one sitting (issue 12): an RSA key pair generated on the engine's own token
    when the sitting opens, its public half published in a document the engine signs. Members' stations
    wrap the parts they release to it, so released parts are never stored unwrapped; the private half
    is destroyed on the token when the sitting is recorded (`closed_at`)."""

    __tablename__ = "session_keys"
    tender_id: Mapped[str] = mapped_column(ForeignKey("tenders.id"), index=True)
    session: Mapped[str] = mapped_column(String(20))
    key_label: Mapped[str] = mapped_column(String(64))
    mechanism: Mapped[str] = mapped_column(String(40))
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    __table_args__ = (UniqueConstraint("tender_id", "session"),)


class PartsRelease(SurrogateKey, Base):
    """One member's release of their parts of the bids' opening keys for one sitting (issue 12): the
    signed request as received; the parts inside stay wrapped to the sitting's key until decryption."""

    __tablename__ = "parts_releases"
    tender_id: Mapped[str] = mapped_column(ForeignKey("tenders.id"), index=True)
    session: Mapped[str] = mapped_column(String(20))
    member_id: Mapped[str] = mapped_column(String(40))
    national_id: Mapped[str] = mapped_column(String(10))
    released_at: Mapped[datetime] = mapped_column(UTCDateTime())
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    __table_args__ = (UniqueConstraint("tender_id", "session", "member_id"),)


class BudgetLine(SurrogateKey, Base):
    """The budget-line registry (issue 13, R29): a unit's own budget-line code and the municipality's
    general code it maps to. A contract's budget line is chosen from here, never typed freely."""

    __tablename__ = "budget_lines"
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    code: Mapped[str] = mapped_column(String(60))
    general_code: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (UniqueConstraint("unit_id", "code"),)


class ExpenseFactor(SurrogateKey, Base):
    """The expense-factor registry (issue 13, R29): a new entry counts once the financial system's
    committee approved it (`committee_ref`, `approved_at` aware UTC); until then it waits in the
    treasurer's inbox."""

    __tablename__ = "expense_factors"
    code: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    committee_ref: Mapped[str | None] = mapped_column(String(100), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Auction(Base):
    """An online auction (حراج) registered on an announced tender of kind auction (issue 14): its
    terms as the engine fixed them (window, base price = the estimate, increment, extension rules:
    JSON, amounts in rials, times UTC ISO 8601) and the contracts officer's signed request."""

    __tablename__ = "auctions"
    tender_id: Mapped[str] = mapped_column(ForeignKey("tenders.id"), primary_key=True)
    terms_json: Mapped[str] = mapped_column(Text)
    request_xml: Mapped[bytes] = mapped_column(LargeBinary)
    registered_by: Mapped[str] = mapped_column(String(10))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuctionGuarantee(SurrogateKey, Base):
    """A bidder's guarantee lodged for an online auction (envelope A, in the open), as received and
    judged: accepted, or refused with its reason code; the signed document and the engine's receipt."""

    __tablename__ = "auction_guarantees"
    tender_id: Mapped[str] = mapped_column(ForeignKey("tenders.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    bidder_ref: Mapped[str] = mapped_column(String(64))
    company_id: Mapped[str] = mapped_column(String(11))
    amount_rial: Mapped[int] = mapped_column(BigInteger)
    valid_until: Mapped[date] = mapped_column(Date)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(60), nullable=True)
    document_xml: Mapped[bytes] = mapped_column(LargeBinary)
    receipt_xml: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    __table_args__ = (UniqueConstraint("tender_id", "seq"),)


class AuctionOffer(SurrogateKey, Base):
    """One offer of an online auction in the order received (`seq`), as judged: accepted (whether it
    extended the close; `closes_at` the close after it, UTC) or refused with its reason code; the
    signed document and, when accepted, the engine's signed receipt."""

    __tablename__ = "auction_offers"
    tender_id: Mapped[str] = mapped_column(ForeignKey("tenders.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    bidder_ref: Mapped[str] = mapped_column(String(64))
    company_id: Mapped[str] = mapped_column(String(11))
    amount_rial: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(60), nullable=True)
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    document_xml: Mapped[bytes] = mapped_column(LargeBinary)
    receipt_xml: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    __table_args__ = (UniqueConstraint("tender_id", "seq"),)


class RulesCalendarChange(SurrogateKey, Base):
    """A change to the rules calendar (issue 14 part 4, R27), on top of the policy TOML's calendar:
    version `version` (1, 2, ...), `rule` takes `value` for the units of `units_json` (a JSON list,
    "*" = every unit) on the Jalali days [from_day, until_day). Proposed by one person, approved by
    another, each with the role the registry gave them that day; `slide_back` is true when the
    approval explicitly approved giving a unit back a rule's old value (the slide-backs found at
    approval in `slide_backs_json`). `content_sha256` is the digest of the change as proposed (the
    audit entries carry it too)."""

    __tablename__ = "rules_calendar_changes"
    version: Mapped[int] = mapped_column(Integer, unique=True)
    rule: Mapped[str] = mapped_column(String(60))
    units_json: Mapped[str] = mapped_column(Text)
    from_day: Mapped[date] = mapped_column(Date)
    until_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    value: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text)
    policy_version: Mapped[str] = mapped_column(String(40))
    content_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))  # proposed | approved
    proposed_by: Mapped[str] = mapped_column(String(10))
    proposer_role: Mapped[str] = mapped_column(String(40))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(10), nullable=True)
    approver_role: Mapped[str | None] = mapped_column(String(40), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    slide_back: Mapped[bool] = mapped_column(Boolean, default=False)
    slide_backs_json: Mapped[str | None] = mapped_column(Text, nullable=True)


class RulesCalendarEvent(SurrogateKey, Base):
    """The first time an event of the rules calendar happened for a unit (R27), e.g. its first
    contract registered with workflow (`ref`: the contract code), at `at` (aware UTC)."""

    __tablename__ = "rules_calendar_events"
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    event: Mapped[str] = mapped_column(String(60))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    ref: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (UniqueConstraint("unit_id", "event"),)


# --- real estate and barter (issue 14 part 3: R22, R23) ------------------------------------------

from store.stub_tables import StubBase  # noqa: E402  (the real-estate system stub's tables below)


class RealEstateDeal(SurrogateKey, Base):
    """A real-estate transaction (R22) or barter (R23) registered as a contract (`contract_id`, kind
    real_estate_* or barter): `contract_type` real_estate | barter, `transaction` sale | acquisition |
    lease | rent_out (None for a barter without property), where the property's data came from
    (`source`: real_estate_system | hand), its plate (`main/sub/section`), area (decimal text, m²),
    the deal as registered (`deal_json`), and its publication (release id once published)."""

    __tablename__ = "real_estate_deals"
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), unique=True)
    contract_type: Mapped[str] = mapped_column(String(20))
    transaction: Mapped[str | None] = mapped_column(String(20), nullable=True)
    source: Mapped[str] = mapped_column(String(20))
    plate_key: Mapped[str | None] = mapped_column(String(120), nullable=True, index=True)
    area_m2: Mapped[str | None] = mapped_column(String(20), nullable=True)
    deal_json: Mapped[str] = mapped_column(Text)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    release_id: Mapped[str | None] = mapped_column(String(100), nullable=True)


class ExtReProperty(SurrogateKey, StubBase):
    """The real-estate system stub's property file (R22, R28): one record per registration plate."""

    __tablename__ = "ext_re_properties"
    plate_key: Mapped[str] = mapped_column(String(120), unique=True)
    property_type: Mapped[str] = mapped_column(String(30))
    area_m2: Mapped[str] = mapped_column(String(20))
    location: Mapped[str] = mapped_column(String(60))
    address: Mapped[str] = mapped_column(Text)
    valuation_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ExtReDeal(SurrogateKey, StubBase):
    """A concluded deal the real-estate system recorded against a property (by contract code)."""

    __tablename__ = "ext_re_deals"
    contract_code: Mapped[str] = mapped_column(String(40), unique=True)
    plate_key: Mapped[str] = mapped_column(String(120), index=True)
    transaction: Mapped[str] = mapped_column(String(20))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IncomeReceipt(SurrogateKey, Base):
    """A receipt on an income contract (issue 14 part 2, R30) as the engine asked the financial system
    to record it: the scenario's or officer's `ref`, the contract code sent (may be blank, to rehearse
    a refusal), the amount (rials), when received (aware UTC), `recorded` or `refused` with its reason
    code, and the schedule lines it settled (`lines_json`: [{"seq", "amount_rial", "late"}])."""

    __tablename__ = "income_receipts"
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    ref: Mapped[str] = mapped_column(String(40))
    receipt_key: Mapped[str] = mapped_column(String(64), unique=True)
    contract_code: Mapped[str] = mapped_column(String(40))
    amount_rial: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    result: Mapped[str] = mapped_column(String(20))  # recorded | refused
    reason: Mapped[str | None] = mapped_column(String(60), nullable=True)
    lines_json: Mapped[str] = mapped_column(Text, default="[]")
    __table_args__ = (UniqueConstraint("contract_id", "ref"),)


class ExtFinReceipt(SurrogateKey, StubBase):
    """The financial-system stub's receipts (R30): money received on an income contract, by contract
    code, once per idempotency key."""

    __tablename__ = "ext_fin_receipts"
    receipt_key: Mapped[str] = mapped_column(String(128), unique=True)
    contract_code: Mapped[str] = mapped_column(String(64), index=True)
    amount_rial: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


# --- R26: the support channel and the notifications nobody could receive ----------------------------
class SupportRequest(SurrogateKey, Base):
    """A support request of a district's staff or a contractor (R26): who opened it (national ID, the
    session's role and unit: a district, or the company for its signatory), its subject and status
    (open | answered | closed). Its messages are the reply trail."""

    __tablename__ = "support_requests"
    requester_national_id: Mapped[str] = mapped_column(String(10), index=True)
    requester_role: Mapped[str] = mapped_column(String(40))
    requester_unit: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SupportMessage(SurrogateKey, Base):
    """One message of a support request's trail, as its author signed it on their token: the signed
    request is kept, and its SHA-256 is unique so the same signed message posted twice is stored once."""

    __tablename__ = "support_messages"
    request_id: Mapped[int] = mapped_column(ForeignKey("support_requests.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # open | reply | close
    author_national_id: Mapped[str] = mapped_column(String(10))
    author_role: Mapped[str] = mapped_column(String(40))
    author_unit: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    document_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    signed_xml: Mapped[bytes] = mapped_column(LargeBinary)
    __table_args__ = (UniqueConstraint("request_id", "seq"),)


class NotificationGap(SurrogateKey, Base):
    """A notification that concerned someone the registry gives no contact (R26: reported, never
    silently skipped); one row per (event, recipient), like the outbox's own dedup key."""

    __tablename__ = "notification_gaps"
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient_id: Mapped[str] = mapped_column(String(64), index=True)
    company_id: Mapped[str | None] = mapped_column(String(11))
    template: Mapped[str] = mapped_column(String(64))
    noted_at: Mapped[datetime] = mapped_column(UTCDateTime())
