"""Plaintext of envelopes A, B and C: small strict JSON documents.

A: {"guarantee": {"amount_rial": int, "valid_until": "YYYY/MM/DD"} | null}
B: {"documents": [str], "grade": int, "technical_score": int | null}
C: {"coefficient": "0.93"} or {"amount_rial": int}

Numbers that carry money are JSON integers, a coefficient is a decimal string (never a float);
Persian or Arabic digits in dates and coefficients are normalised to ASCII.
Constructing a model directly raises pydantic's ValidationError; untrusted data goes through
decode_envelope / envelope_from_dict, which raise DomainError(INVALID_INPUT) in Persian.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from domain.money import check_rial, to_decimal
from domain.persian import format_jalali_date, normalize, normalize_digits, parse_jalali_date
from domain.reasons import DomainError, Reason

LETTER_FA = {"A": "الف", "B": "ب", "C": "ج"}
_COEFFICIENT = re.compile(r"\d{1,6}(\.\d{1,12})?")
_MAX_TECHNICAL_SCORE = 100


def _invalid(message_fa: str) -> PydanticCustomError:
    return PydanticCustomError("eproc_invalid", message_fa)


def _rial(value: int, field: str) -> int:
    try:
        return check_rial(value, minimum=1, field=field)
    except DomainError as exc:
        raise _invalid("مبلغ باید عدد صحیح مثبت ریالی و در محدودهٔ مجاز باشد") from exc


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    def _dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class Guarantee(_Strict):
    amount_rial: int
    valid_until: str  # Jalali YYYY/MM/DD

    @field_validator("amount_rial")
    @classmethod
    def _amount(cls, value: int) -> int:
        return _rial(value, "amount_rial")

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

    @field_validator("content_b64")
    @classmethod
    def _base64(cls, value: str) -> str:
        import base64
        import binascii

        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise _invalid("پیوست باید base64 معتبر باشد") from None
        return value


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
    def _coefficient(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = normalize_digits(value).strip().replace("٫", ".")
        if not _COEFFICIENT.fullmatch(text) or Decimal(text) <= 0:
            raise _invalid(f"ضریب باید عددی اعشاری و مثبت به‌صورت متن باشد، مانند «0.93»: «{value}»")
        return text

    @field_validator("amount_rial")
    @classmethod
    def _amount(cls, value: int | None) -> int | None:
        return None if value is None else _rial(value, "amount_rial")

    @model_validator(mode="after")
    def _exactly_one(self) -> EnvelopeC:
        if (self.coefficient is None) == (self.amount_rial is None):
            raise _invalid("پاکت ج باید دقیقاً یکی از «ضریب» یا «مبلغ» را داشته باشد")
        return self

    @classmethod
    def by_coefficient(cls, value: object) -> EnvelopeC:
        """From a Decimal, str, int or float (floats go through str, so 0.93 stays 0.93)."""
        return cast(EnvelopeC, envelope_from_dict("C", {"coefficient": format(to_decimal(value), "f")}))

    @classmethod
    def by_amount(cls, amount_rial: int) -> EnvelopeC:
        return cast(EnvelopeC, envelope_from_dict("C", {"amount_rial": amount_rial}))

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


def decode_envelope(letter: str, data: bytes) -> EnvelopeContent:
    """Parse and strictly validate an opened envelope; bad content is INVALID_INPUT in Persian."""
    if letter not in _MODELS:
        raise DomainError(Reason.INVALID_INPUT, f"حرف پاکت نامعتبر است: «{letter}»")
    name = LETTER_FA[letter]
    try:
        text = bytes(data).decode("utf-8")
        parsed = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise DomainError(Reason.INVALID_INPUT, f"محتوای پاکت «{name}» JSON معتبر UTF-8 نیست") from exc
    return envelope_from_dict(letter, parsed)


def envelope_from_dict(letter: str, parsed: object) -> EnvelopeContent:
    """Strictly validate already-parsed content (e.g. from a scenario file) for one letter."""
    model = _MODELS.get(letter)
    if model is None:
        raise DomainError(Reason.INVALID_INPUT, f"حرف پاکت نامعتبر است: «{letter}»")
    name = LETTER_FA[letter]
    if not isinstance(parsed, dict):
        raise DomainError(Reason.INVALID_INPUT, f"محتوای پاکت «{name}» باید یک شیء JSON باشد")
    try:
        return cast(EnvelopeContent, model.model_validate(parsed, strict=True))
    except ValidationError as exc:
        problems = "؛ ".join(_describe(err) for err in exc.errors())
        raise DomainError(Reason.INVALID_INPUT, f"محتوای پاکت «{name}» نامعتبر است: {problems}") from exc


_ERROR_FA = {
    "missing": "الزامی است",
    "extra_forbidden": "فیلد ناشناخته است",
    "int_type": "باید عدد صحیح باشد",
    "int_from_float": "باید عدد صحیح باشد",
    "string_type": "باید متن باشد",
    "list_type": "باید فهرست باشد",
    "model_type": "باید شیء JSON باشد",
    "dict_type": "باید شیء JSON باشد",
    "model_attributes_type": "باید شیء JSON باشد",
}


def _describe(err: Mapping[str, Any]) -> str:
    where = ".".join(str(part) for part in err.get("loc", ())) or "پاکت"
    if err.get("type") == "eproc_invalid":
        return f"{where}: {err['msg']}"
    return f"{where}: {_ERROR_FA.get(err.get('type', ''), 'نامعتبر است')}"
