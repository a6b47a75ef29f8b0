"""The tender's data: price lists, the tender specification, envelope contents and bid records.

Everything is frozen: an evaluation is a function of these values, so a replay gives the same result.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from types import MappingProxyType

from domain.money import check_rial, to_decimal
from domain.reasons import DomainError, Reason


class Kind(str, Enum):
    TENDER = "tender"
    AUCTION = "auction"
    PRICE_INQUIRY = "price_inquiry"


class Procedure(str, Enum):
    ONE_STAGE = "one_stage"
    TWO_STAGE = "two_stage"


class Letter(str, Enum):
    A = "A"
    B = "B"
    C = "C"


def _aware(value: datetime | None, name: str) -> None:
    if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
        raise DomainError(Reason.INVALID_INPUT, f"{name}: زمان باید با منطقهٔ زمانی (UTC) باشد")


@dataclass(frozen=True)
class PriceListItem:
    code: str
    unit: str
    unit_price: int

    def __post_init__(self) -> None:
        check_rial(self.unit_price, field=f"unit_price[{self.code}]")


@dataclass(frozen=True)
class PriceList:
    """An approved price-list version (فهرست بها); items keyed by code."""

    id: str
    version: int
    items: Mapping[str, PriceListItem]
    approved_by: str = ""
    approved_at: datetime | None = None

    def __post_init__(self) -> None:
        items = self.items
        if not isinstance(items, Mapping):
            items = {item.code: item for item in items}
        object.__setattr__(self, "items", MappingProxyType(dict(items)))
        _aware(self.approved_at, "approved_at")

    def __hash__(self) -> int:
        return hash((self.id, self.version))

    def item(self, code: str) -> PriceListItem:
        try:
            return self.items[code]
        except KeyError as exc:
            raise DomainError(Reason.INVALID_INPUT,
                              f"ردیف {code} در فهرست بهای {self.id} نسخهٔ {self.version} نیست") from exc


@dataclass(frozen=True)
class TenderItem:
    code: str
    quantity: Decimal

    def __post_init__(self) -> None:
        quantity = to_decimal(self.quantity)
        if quantity <= 0:
            raise DomainError(Reason.INVALID_INPUT, f"مقدار ردیف {self.code} باید مثبت باشد")
        object.__setattr__(self, "quantity", quantity)


@dataclass(frozen=True)
class TenderSpec:
    """What the tender documents fix: kind, procedure, items, guarantee (rials), dates (aware UTC) and
    thresholds; min_valid_bids, signing_days (calendar days) and performance_guarantee_rate (fraction)
    come from the documents or the policy's [defaults] and are required (keyword-only).

    Raises (on construction): INVALID_INPUT for an inconsistent spec."""

    id: str
    kind: Kind
    procedure: Procedure
    unit: str
    title: str
    items: tuple[TenderItem, ...]
    guarantee_rial: int
    guarantee_valid_until: date
    deadline: datetime
    opening_at: datetime
    price_opening_at: datetime | None = None
    required_documents: frozenset[str] = frozenset()
    allowed_grades: frozenset[int] = frozenset()
    min_technical_score: Decimal | None = None
    announce_at: datetime | None = None
    # The policy's [defaults] (or the tender documents' own values): required, never defaulted here.
    min_valid_bids: int = field(kw_only=True)
    signing_days: int = field(kw_only=True)
    performance_guarantee_rate: Decimal = field(kw_only=True)

    def __post_init__(self) -> None:
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731
        set_("kind", Kind(self.kind))
        set_("procedure", Procedure(self.procedure))
        set_("items", tuple(i if isinstance(i, TenderItem) else TenderItem(*i) for i in self.items))
        if not self.items:
            raise DomainError(Reason.INVALID_INPUT, "مناقصه بدون ردیف")
        check_rial(self.guarantee_rial, field="guarantee_rial")
        set_("required_documents", frozenset(self.required_documents))
        set_("allowed_grades", frozenset(int(g) for g in self.allowed_grades))
        for name in ("deadline", "opening_at", "price_opening_at", "announce_at"):
            _aware(getattr(self, name), name)
        if self.opening_at < self.deadline:
            raise DomainError(Reason.INVALID_INPUT, "زمان بازگشایی پیش از مهلت ارسال است")
        if self.procedure is Procedure.TWO_STAGE:
            if self.min_technical_score is None:
                raise DomainError(Reason.INVALID_INPUT, "مناقصهٔ دومرحله‌ای بدون حداقل امتیاز فنی")
            if self.price_opening_at is None or self.price_opening_at < self.opening_at:
                raise DomainError(Reason.INVALID_INPUT, "زمان بازگشایی پاکت ج در مناقصهٔ دومرحله‌ای نادرست است")
        if self.min_technical_score is not None:
            set_("min_technical_score", to_decimal(self.min_technical_score))
        if self.min_valid_bids < 1 or self.signing_days < 1:
            raise DomainError(Reason.INVALID_INPUT, "حداقل پیشنهاد معتبر و مهلت امضا باید مثبت باشند")
        set_("performance_guarantee_rate", to_decimal(self.performance_guarantee_rate))


@dataclass(frozen=True)
class Guarantee:
    amount_rial: int
    valid_until: date


@dataclass(frozen=True)
class EnvelopeA:
    """Bid guarantee; guarantee None means the envelope holds none."""

    guarantee: Guarantee | None


@dataclass(frozen=True)
class EnvelopeB:
    documents: frozenset[str]
    grade: int
    technical_score: Decimal | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "documents", frozenset(self.documents))
        if self.technical_score is not None:
            object.__setattr__(self, "technical_score", to_decimal(self.technical_score))


@dataclass(frozen=True)
class EnvelopeC:
    """Either a coefficient on the estimate or a lump sum, never both."""

    coefficient: Decimal | None = None
    amount_rial: int | None = None

    def __post_init__(self) -> None:
        if (self.coefficient is None) == (self.amount_rial is None):
            raise DomainError(Reason.INVALID_INPUT, "پاکت ج باید یا ضریب داشته باشد یا مبلغ")
        if self.coefficient is not None:
            coefficient = to_decimal(self.coefficient)
            if coefficient <= 0:
                raise DomainError(Reason.INVALID_INPUT, "ضریب پیشنهادی باید مثبت باشد")
            object.__setattr__(self, "coefficient", coefficient)
        else:
            check_rial(self.amount_rial, minimum=1, field="amount_rial")  # type: ignore[arg-type]


@dataclass(frozen=True)
class BidRecord:
    """One bidder's effective submission; a/b/c are None until decrypted.

    refused carries the submission's refusal (LATE_SUBMISSION, ...); tampered names the
    envelope whose ciphertext failed verification; signature_invalid is the bidder's
    signature on the submission failing at opening; invalid names the envelope whose decrypted
    content broke the content rules (unreadable, out of the policy's bounds) and the reason code.
    """

    bidder_id: str
    receipt_at: datetime
    a: EnvelopeA | None = None
    b: EnvelopeB | None = None
    c: EnvelopeC | None = None
    tampered: Letter | None = None
    signature_invalid: bool = False
    refused: Reason | None = None
    invalid: tuple[Letter, Reason] | None = None

    def __post_init__(self) -> None:
        _aware(self.receipt_at, "receipt_at")
        if self.tampered is not None:
            object.__setattr__(self, "tampered", Letter(self.tampered))
        if self.refused is not None:
            object.__setattr__(self, "refused", Reason(self.refused))

    def envelope(self, letter: Letter) -> EnvelopeA | EnvelopeB | EnvelopeC | None:
        return {Letter.A: self.a, Letter.B: self.b, Letter.C: self.c}[Letter(letter)]


def effective_bids(spec: TenderSpec, submissions: Iterable[BidRecord]) -> list[BidRecord]:
    """Per bidder, the last submission received by the deadline (art. 16); a bidder with only
    late submissions keeps its last one, refused with LATE_SUBMISSION."""
    by_bidder: dict[str, list[BidRecord]] = {}
    for sub in submissions:
        by_bidder.setdefault(sub.bidder_id, []).append(sub)
    chosen: list[BidRecord] = []
    for bidder_id in sorted(by_bidder):
        subs = sorted(by_bidder[bidder_id], key=lambda s: s.receipt_at)
        on_time = [s for s in subs if s.receipt_at <= spec.deadline and s.refused is None]
        if on_time:
            chosen.append(on_time[-1])
        else:
            last = subs[-1]
            reason = last.refused or Reason.LATE_SUBMISSION
            chosen.append(BidRecord(bidder_id, last.receipt_at, refused=reason))
    return chosen


@dataclass(frozen=True)
class Estimate:
    """The price-list estimate: exact line amounts and one total rounded once."""

    total_rial: int
    lines: tuple[EstimateLine, ...]
    price_list_id: str
    price_list_version: int
    formula_ref: str = field(default="")


@dataclass(frozen=True)
class EstimateLine:
    code: str
    unit: str
    quantity: Decimal
    unit_price: int

    @property
    def amount(self) -> Decimal:
        return self.quantity * self.unit_price
