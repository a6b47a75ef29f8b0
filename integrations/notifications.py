"""SMS and portal notifications to contractors and staff (R26).

Messages are Persian templates with named parameters; a template lists the parameters it needs
so a message never goes out with a hole in it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, Protocol

from domain.persian import format_jalali_date, format_jalali_datetime, format_rial, normalize_digits
from domain.reasons import DomainError, Reason


class Template(str, Enum):
    TOKEN_REQUIRED = "token_required"
    ESIGNATURE_REQUIRED = "esignature_required"
    BID_RECEIPT = "bid_receipt"
    WINNER_NOTIFICATION = "winner_notification"
    STATEMENT_TO_SIGN = "statement_to_sign"
    OPENING_RESULT = "opening_result"
    CONTRACT_STAGE = "contract_stage"
    CONTRACT_CODE = "contract_code"
    STATEMENT_APPROVED = "statement_approved"
    STATEMENT_RETURNED = "statement_returned"
    PAYMENT_MADE = "payment_made"
    SUPPORT_REPLY = "support_reply"


TEMPLATES_FA: dict[Template, str] = {
    Template.TOKEN_REQUIRED: (
        "{name} گرامی، برای شرکت در معاملات شهرداری تهران «توکن» امضای الکترونیکی لازم است. "
        "لطفاً تا {deadline} توکن خود را دریافت و در سامانه ثبت کنید. پشتیبانی: {support}"),
    Template.ESIGNATURE_REQUIRED: (
        "{name} گرامی، از {effective_date} اسناد معاملات «{unit}» فقط با امضای الکترونیکی پذیرفته "
        "می‌شود و امضای دستی جایگزین آن نیست. پشتیبانی: {support}"),
    Template.BID_RECEIPT: (
        "پیشنهاد شما برای «{tender_title}» در {received_at} دریافت شد. شمارهٔ رسید: {receipt_id}"),
    Template.WINNER_NOTIFICATION: (
        "شما برندهٔ «{tender_title}» با مبلغ {amount_rial} ریال شدید. لطفاً تا {signing_deadline} "
        "قرارداد را امضا و تضمین انجام تعهدات را ارائه کنید."),
    Template.STATEMENT_TO_SIGN: (
        "صورت‌وضعیت {statement_id} قرارداد {contract_code} آمادهٔ امضای الکترونیکی شماست."),
    Template.OPENING_RESULT: (
        "نتیجهٔ گشایش پیشنهادهای «{tender_title}» در صورتجلسهٔ نهایی کمیسیون: {outcome}"),
    Template.CONTRACT_STAGE: (
        "قرارداد {tracking_number} («{tender_title}») مرحلهٔ «{stage}» را گذراند و به مرحلهٔ «{next_stage}» رسید."),
    Template.CONTRACT_CODE: (
        "کد قرارداد «{tender_title}» صادر شد: {contract_code}. این کد بر همهٔ صورت‌وضعیت‌ها و پرداخت‌ها می‌آید."),
    Template.STATEMENT_APPROVED: (
        "صورت‌وضعیت {statement_id} قرارداد {contract_code} تأیید شد؛ مبلغ قابل پرداخت {payable_rial} ریال."),
    Template.STATEMENT_RETURNED: (
        "صورت‌وضعیت {statement_id} قرارداد {contract_code} تأیید نشد و برگشت خورد: {reason}"),
    Template.PAYMENT_MADE: (
        "پرداخت {amount_rial} ریال بابت صورت‌وضعیت {statement_id} قرارداد {contract_code} انجام شد."),
    Template.SUPPORT_REPLY: (
        "به درخواست پشتیبانی {request_id} («{subject}») پاسخ داده شد. پاسخ را در سامانه ببینید."),
}

_FIELD = re.compile(r"{(\w+)}")


def template_params(template: Template) -> set[str]:
    return set(_FIELD.findall(TEMPLATES_FA[template]))


def normalize_mobile(value: str) -> str:
    """An Iranian mobile number as 09xxxxxxxxx; +98 and 0098 forms and Persian digits accepted."""
    raw = normalize_digits(str(value)).strip()
    compact = re.sub(r"[\s\-().]", "", raw)
    if compact.startswith("+98"):
        compact = "0" + compact[3:]
    elif compact.startswith("0098"):
        compact = "0" + compact[4:]
    if not re.fullmatch(r"09\d{9}", compact):
        raise DomainError(Reason.INVALID_INPUT, f"شمارهٔ همراه نامعتبر: «{value}»")
    return compact


_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+")


def normalize_email(value: str) -> str:
    """An e-mail address, trimmed and lower-cased (the portal's second channel, R26).

    Raises: INVALID_INPUT when it is not one address of the form name@domain.tld."""
    compact = normalize_digits(str(value)).strip().lower()
    if len(compact) > 254 or not _EMAIL.fullmatch(compact):
        raise DomainError(Reason.INVALID_INPUT, f"نشانی رایانامه نامعتبر: «{value}»")
    return compact


def _format_value(value: Any) -> str:
    if isinstance(value, datetime):
        return format_jalali_datetime(value, persian=True)
    if isinstance(value, date):
        return format_jalali_date(value, persian=True)
    if isinstance(value, bool):
        raise DomainError(Reason.INVALID_INPUT, "مقدار منطقی در پیامک معنا ندارد")
    if isinstance(value, int):
        return format_rial(value, persian=True)
    return str(value)  # identifiers stay as issued, so people can type them back


def render(template: Template | str, params: dict[str, Any]) -> str:
    try:
        tpl = Template(template)
    except ValueError as exc:
        raise DomainError(Reason.INVALID_INPUT, f"الگوی پیام ناشناخته: {template!r}") from exc
    needed = template_params(tpl)
    missing = sorted(n for n in needed if n not in params or params[n] is None or str(params[n]).strip() == "")
    unknown = sorted(set(params) - needed)
    if missing or unknown:
        raise DomainError(Reason.INVALID_INPUT,
                          f"پارامترهای الگوی {tpl.value}: کم {missing or '-'}، ناشناخته {unknown or '-'}")
    return TEMPLATES_FA[tpl].format(**{n: _format_value(params[n]) for n in needed})


@dataclass(frozen=True)
class OutboxMessage:
    dedup_key: str
    recipient_id: str
    mobile: str
    template: str
    text: str
    status: str  # queued | sent
    created_at: datetime
    sent_at: datetime | None


class Notifier(Protocol):
    def notify(self, recipient_mobile: str, recipient_id: str, template: Template | str,
               params: dict[str, Any], dedup_key: str) -> OutboxMessage:
        ...

    def outbox(self, recipient_id: str) -> list[OutboxMessage]:
        ...
