"""Plaintext of envelopes A, B and C: small strict JSON documents.

A: {"guarantee": {"amount_rial": int, "valid_until": "YYYY/MM/DD"} | null}
B: {"documents": [str], "grade": int, "technical_score": int | null}
C: {"coefficient": "0.93"} or {"amount_rial": int}

Numbers that carry money are JSON integers, a coefficient is a decimal string (never a float) read
by domain.persian.parse_decimal (Persian or Arabic digits and the Persian decimal separator ٫ too);
text is domain.persian.normalize'd (no invisible direction controls). A key given twice is refused.
With the policy's ContentLimits (Policy.content_limits()) the coefficient, every amount, each
attachment and the whole content are bounded too (R08, sealed content bounds).
Constructing a model directly raises pydantic's ValidationError; untrusted data goes through
decode_envelope / envelope_from_dict, which raise DomainError(INVALID_INPUT) in Persian.
"""
from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from domain.limits import ContentLimits, check_coefficient, check_sealed_amount, check_size
from domain.money import check_rial, to_decimal
from domain.persian import format_jalali_date, normalize, parse_decimal, parse_jalali_date
from domain.reasons import DomainError, Reason
from domain.validation_fa import problems_fa

LETTER_FA = {"A": "الف", "B": "ب", "C": "ج"}
_COEFFICIENT = re.compile(r"[0-9]{1,6}(\.[0-9]{1,12})?", re.ASCII)
_MAX_TECHNICAL_SCORE = 100


def _invalid(message_fa: str) -> PydanticCustomError:
    return PydanticCustomError("eproc_invalid", message_fa)


def _limits(info: ValidationInfo) -> ContentLimits | None:
    """The policy's bounds passed as validation context by decode_envelope / envelope_from_dict."""
    context = info.context if isinstance(info.context, dict) else {}
    limits = context.get("limits")
    return limits if isinstance(limits, ContentLimits) else None


def _rial(value: int, field: str, limits: ContentLimits | None = None) -> int:
    try:
        check_rial(value, minimum=1, field=field)
    except DomainError as exc:
        raise _invalid("مبلغ باید عدد صحیح مثبت ریالی و در محدودهٔ مجاز باشد") from exc
    if limits is not None:
        try:
            check_sealed_amount(value, limits)
        except DomainError as exc:
            raise _invalid(exc.detail) from exc
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    def _dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class Guarantee(_Strict):
    amount_rial: int
    valid_until: str  # Jalali YYYY/MM/DD

    @field_validator("amount_rial")
    @classmethod
    def _amount(cls, value: int, info: ValidationInfo) -> int:
        return _rial(value, "amount_rial", _limits(info))

    @field_validator("valid_until")
    @classmethod
    def _date(cls, value: str) -> str:
        try:
            return format_jalali_date(parse_jalali_date(value))
        except DomainError as exc:
            raise _invalid(exc.detail or exc.message_fa) from exc

    @property
    def valid_until_date(self) -> date:
        return parse_jalali_date(self.valid_until)


class EnvelopeA(_Strict):
    """Bid guarantee; `None` states that the bid has none (which opening rejects)."""
    guarantee: Guarantee | None


class Attachment(_Strict):
    """One uploaded technical or qualification document (the file itself, base64)."""

    name: str
    content_b64: str

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        cleaned = normalize(value)
        if not cleaned:
            raise _invalid("نام پیوست خالی است")
        return cleaned

    @field_validator("content_b64")
    @classmethod
    def _base64(cls, value: str, info: ValidationInfo) -> str:
        import base64
        import binascii

        limits = _limits(info)
        if limits is not None and len(value) > (limits.max_attachment_bytes + 2) // 3 * 4:
            # Checked on the encoded length first: a huge attachment is refused before it is decoded.
            raise _invalid(_size_message(len(value) // 4 * 3, limits.max_attachment_bytes))
        size = _canonical_base64_size(value)
        if size is None:  # anything else: decoded, as strictly as base64.b64decode(validate=True) does
            try:
                size = len(base64.b64decode(value, validate=True))
            except (binascii.Error, ValueError):
                raise _invalid("پیوست باید base64 معتبر باشد") from None
        if limits is not None and size > limits.max_attachment_bytes:
            raise _invalid(_size_message(size, limits.max_attachment_bytes))
        return value


_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _canonical_base64_size(value: str) -> int | None:
    """The decoded size of `value` when it is canonical base64 (alphabet characters, length a multiple
    of 4, at most two trailing "="), which base64.b64decode(validate=True) always accepts; None for
    anything else. Checks a megabyte attachment without decoding it (the opening reads every bid's)."""
    if not value.isascii() or len(value) % 4:
        return None
    raw = value.encode("ascii")
    # What is not in the alphabet may only be the padding: at most two "=", and only at the very end.
    # (No rstrip: that would copy a megabyte to drop two characters.)
    padding = raw.translate(None, _BASE64_ALPHABET)
    if padding not in (b"", b"=", b"==") or not raw.endswith(padding):
        return None
    return len(raw) // 4 * 3 - len(padding)


def _size_message(size: int, limit: int) -> str:
    try:
        check_size(size, limit, "پیوست")
    except DomainError as exc:
        return exc.detail
    return ""


class EnvelopeB(_Strict):
    documents: list[str]
    grade: int
    technical_score: int | None = None
    attachments: list[Attachment] = []

    @field_validator("documents")
    @classmethod
    def _documents(cls, value: list[str]) -> list[str]:
        cleaned = [normalize(doc) for doc in value]
        if any(not doc for doc in cleaned):
            raise _invalid("نام مدرک خالی است")
        return cleaned

    @field_validator("grade")
    @classmethod
    def _grade(cls, value: int) -> int:
        if value < 1:
            raise _invalid("رتبه باید عدد صحیح مثبت باشد")
        return value

    @field_validator("technical_score")
    @classmethod
    def _score(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value <= _MAX_TECHNICAL_SCORE:
            raise _invalid(f"امتیاز فنی باید بین ۰ و {_MAX_TECHNICAL_SCORE} باشد")
        return value


class EnvelopeC(_Strict):
    """Price: a coefficient on the price-list estimate, or a lump sum; exactly one."""
    coefficient: str | None = None
    amount_rial: int | None = None

    @field_validator("coefficient")
    @classmethod
    def _coefficient(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        try:
            text = format(parse_decimal(value, "ضریب"), "f")
        except DomainError:
            text = ""
        if not _COEFFICIENT.fullmatch(text) or Decimal(text) <= 0:
            raise _invalid(f"ضریب باید عددی اعشاری و مثبت به‌صورت متن باشد، مانند «0.93»: «{normalize(value)}»")
        limits = _limits(info)
        if limits is not None:
            try:
                check_coefficient(Decimal(text), limits)
            except DomainError as exc:
                raise _invalid(exc.detail) from exc
        return text

    @field_validator("amount_rial")
    @classmethod
    def _amount(cls, value: int | None, info: ValidationInfo) -> int | None:
        return None if value is None else _rial(value, "amount_rial", _limits(info))

    @model_validator(mode="after")
    def _exactly_one(self) -> EnvelopeC:
        if (self.coefficient is None) == (self.amount_rial is None):
            raise _invalid("پاکت ج باید دقیقاً یکی از «ضریب» یا «مبلغ» را داشته باشد")
        return self

    @classmethod
    def by_coefficient(cls, value: object, limits: ContentLimits | None = None) -> EnvelopeC:
        """From a Decimal, str, int or float (floats go through str, so 0.93 stays 0.93)."""
        return cast(EnvelopeC, envelope_from_dict("C", {"coefficient": format(to_decimal(value), "f")}, limits))

    @classmethod
    def by_amount(cls, amount_rial: int, limits: ContentLimits | None = None) -> EnvelopeC:
        return cast(EnvelopeC, envelope_from_dict("C", {"amount_rial": amount_rial}, limits))

    @property
    def coefficient_decimal(self) -> Decimal | None:
        return None if self.coefficient is None else Decimal(self.coefficient)

    def _dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


EnvelopeContent = EnvelopeA | EnvelopeB | EnvelopeC
_MODELS: dict[str, type[_Strict]] = {"A": EnvelopeA, "B": EnvelopeB, "C": EnvelopeC}


def letter_of(model: EnvelopeContent) -> str:
    for letter, cls in _MODELS.items():
        if type(model) is cls:
            return letter
    raise DomainError(Reason.INVALID_INPUT, f"محتوای پاکت از نوع شناخته‌شده نیست: {type(model).__name__}")


def encode_envelope(model: EnvelopeContent) -> bytes:
    """Canonical UTF-8 JSON (sorted keys, no spaces): the bytes that get sealed."""
    letter_of(model)
    return json.dumps(model._dump(), ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json object_pairs_hook: a key given twice would let two readers see two different bids."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"JSON constant {name} is not allowed")  # NaN, Infinity: not JSON, not numbers


def decode_envelope(letter: str, data: bytes, limits: ContentLimits | None = None) -> EnvelopeContent:
    """Parse and strictly validate an opened envelope (UTF-8 JSON bytes, each key once); with `limits`
    (Policy.content_limits()) its size, amounts (rials), coefficient and attachments are bounded too.

    Raises: INVALID_INPUT (Persian, naming the envelope and the field). Rule: R08."""
    if letter not in _MODELS:
        raise DomainError(Reason.INVALID_INPUT, f"حرف پاکت نامعتبر است: «{letter}»")
    name = LETTER_FA[letter]
    if limits is not None:
        check_size(len(data), limits.max_bid_bytes, f"محتوای پاکت «{name}»")
    try:
        text = bytes(data).decode("utf-8")
        parsed = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except _DuplicateKey as exc:
        raise DomainError(Reason.INVALID_INPUT,
                          f"محتوای پاکت «{name}» کلید «{normalize(exc.key)}» را دو بار دارد") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise DomainError(Reason.INVALID_INPUT, f"محتوای پاکت «{name}» JSON معتبر UTF-8 نیست") from exc
    return envelope_from_dict(letter, parsed, limits)


def envelope_from_dict(letter: str, parsed: object, limits: ContentLimits | None = None) -> EnvelopeContent:
    """Strictly validate already-parsed content (e.g. from a scenario file) for one letter; with
    `limits` the amounts, coefficient and attachments are bounded by the policy too.

    Raises: INVALID_INPUT (Persian, naming the envelope and the field). Rule: R08."""
    model = _MODELS.get(letter)
    if model is None:
        raise DomainError(Reason.INVALID_INPUT, f"حرف پاکت نامعتبر است: «{letter}»")
    name = LETTER_FA[letter]
    if not isinstance(parsed, dict):
        raise DomainError(Reason.INVALID_INPUT, f"محتوای پاکت «{name}» باید یک شیء JSON باشد")
    try:
        return cast(EnvelopeContent, model.model_validate(parsed, strict=True, context={"limits": limits}))
    except ValidationError as exc:
        raise DomainError(Reason.INVALID_INPUT,
                          f"محتوای پاکت «{name}» نامعتبر است: {problems_fa(exc.errors(), 'پاکت')}") from exc

