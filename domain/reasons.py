"""Stable reason codes (../shared/spec/reason-codes.md) with Persian messages.

Codes are never renamed; every refusal, exclusion and outcome carries one.
"""
from __future__ import annotations

from enum import Enum


class Reason(str, Enum):
    LATE_SUBMISSION = "LATE_SUBMISSION"
    ENVELOPE_TAMPERED = "ENVELOPE_TAMPERED"
    BIDDER_SIGNATURE_INVALID = "BIDDER_SIGNATURE_INVALID"
    GUARANTEE_MISSING = "GUARANTEE_MISSING"
    GUARANTEE_INSUFFICIENT = "GUARANTEE_INSUFFICIENT"
    GUARANTEE_EXPIRES_EARLY = "GUARANTEE_EXPIRES_EARLY"
    DOCUMENTS_INCOMPLETE = "DOCUMENTS_INCOMPLETE"
    GRADE_NOT_ALLOWED = "GRADE_NOT_ALLOWED"
    TECHNICAL_SCORE_BELOW_MIN = "TECHNICAL_SCORE_BELOW_MIN"
    ABNORMALLY_LOW = "ABNORMALLY_LOW"
    BELOW_BASE_PRICE = "BELOW_BASE_PRICE"
    TOO_FEW_VALID_BIDS = "TOO_FEW_VALID_BIDS"
    WINNERS_DECLINED = "WINNERS_DECLINED"
    GUARANTEE_FORFEITED = "GUARANTEE_FORFEITED"
    OPENING_TOO_EARLY = "OPENING_TOO_EARLY"
    QUORUM_NOT_MET = "QUORUM_NOT_MET"
    SECURITY_REP_ABSENT = "SECURITY_REP_ABSENT"
    CERT_UNTRUSTED = "CERT_UNTRUSTED"
    CERT_EXPIRED = "CERT_EXPIRED"
    CERT_REVOKED = "CERT_REVOKED"
    SIGNER_NOT_IN_ROLE = "SIGNER_NOT_IN_ROLE"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    TOKEN_PIN_INVALID = "TOKEN_PIN_INVALID"
    NO_CONTRACT_CODE = "NO_CONTRACT_CODE"
    CONTRACT_NOT_FINAL = "CONTRACT_NOT_FINAL"
    BUDGET_LINE_MISSING = "BUDGET_LINE_MISSING"
    EXPENSE_FACTOR_MISSING = "EXPENSE_FACTOR_MISSING"
    STATEMENT_NOT_SIGNED = "STATEMENT_NOT_SIGNED"
    STATEMENT_EXCEEDS_CONTRACT = "STATEMENT_EXCEEDS_CONTRACT"
    RESOURCES_NOT_REPORTED = "RESOURCES_NOT_REPORTED"
    DUPLICATE_PAYMENT = "DUPLICATE_PAYMENT"
    STATEMENT_NOT_APPROVED = "STATEMENT_NOT_APPROVED"
    REGISTRATION_WITHOUT_WORKFLOW_DISABLED = "REGISTRATION_WITHOUT_WORKFLOW_DISABLED"
    FIELD_MISSING = "FIELD_MISSING"
    THRESHOLDS_NOT_CONFIGURED = "THRESHOLDS_NOT_CONFIGURED"
    SIGNING_TIME_SKEW = "SIGNING_TIME_SKEW"
    BID_NOT_OWNED = "BID_NOT_OWNED"
    OFFER_TOO_LOW = "OFFER_TOO_LOW"
    AUCTION_CLOSED = "AUCTION_CLOSED"
    BLACKLISTED = "BLACKLISTED"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    NOT_AUTHORISED = "NOT_AUTHORISED"
    RULE_CHANGE_NOT_APPROVED = "RULE_CHANGE_NOT_APPROVED"
    STORE_TAMPERED = "STORE_TAMPERED"
    # Added codes (the spec allows additions, never renames).
    TOKEN_NOT_FOUND = "TOKEN_NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    UNKNOWN_UNIT = "UNKNOWN_UNIT"
    DUPLICATE_BID = "DUPLICATE_BID"
    MALFORMED_XML = "MALFORMED_XML"
    AMOUNT_OUT_OF_RANGE = "AMOUNT_OUT_OF_RANGE"
    STORE_UNREACHABLE = "STORE_UNREACHABLE"
    POLICY_INVALID = "POLICY_INVALID"
    AUDIT_APPEND_ONLY = "AUDIT_APPEND_ONLY"
    MINUTES_FINAL = "MINUTES_FINAL"
    WRONG_STAGE = "WRONG_STAGE"
    NOT_FOUND = "NOT_FOUND"
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    REGISTRATION_MODE_NOT_ALLOWED = "REGISTRATION_MODE_NOT_ALLOWED"
    HAND_ENTRY_NOT_ALLOWED = "HAND_ENTRY_NOT_ALLOWED"
    INCOME_CONTRACT_NO_STATEMENT = "INCOME_CONTRACT_NO_STATEMENT"

    @property
    def message_fa(self) -> str:
        return MESSAGES_FA[self]


MESSAGES_FA: dict[Reason, str] = {
    Reason.LATE_SUBMISSION: "پیشنهاد پس از مهلت ارسال رسیده است.",
    Reason.ENVELOPE_TAMPERED: "پاکت دست‌کاری شده است: رمزنگاره، چکیده یا برچسب صحت با رسید مطابقت ندارد.",
    Reason.BIDDER_SIGNATURE_INVALID: "امضای پیشنهاددهنده بر پیشنهاد معتبر نیست.",
    Reason.GUARANTEE_MISSING: "تضمین شرکت در فرایند ارائه نشده است.",
    Reason.GUARANTEE_INSUFFICIENT: "مبلغ تضمین کمتر از مبلغ لازم است.",
    Reason.GUARANTEE_EXPIRES_EARLY: "مدت اعتبار تضمین کمتر از مدت لازم است.",
    Reason.DOCUMENTS_INCOMPLETE: "یکی از مدارک لازم در پاکت ب نیست.",
    Reason.GRADE_NOT_ALLOWED: "رتبهٔ پیمانکار در محدودهٔ رتبه‌های مجاز این مناقصه نیست.",
    Reason.TECHNICAL_SCORE_BELOW_MIN: "امتیاز فنی کمتر از حداقل امتیاز لازم است.",
    Reason.ABNORMALLY_LOW: "قیمت به‌موجب قاعدهٔ مصوب قیمت نامتعارف، به‌طور غیرعادی پایین است.",
    Reason.BELOW_BASE_PRICE: "پیشنهاد کمتر از قیمت پایهٔ مزایده است.",
    Reason.TOO_FEW_VALID_BIDS: "تعداد پیشنهادهای معتبر کمتر از حداقل لازم است؛ فرایند تجدید می‌شود.",
    Reason.WINNERS_DECLINED: "برندهٔ اول و دوم هیچ‌یک قرارداد را امضا نکردند؛ فرایند تجدید می‌شود.",
    Reason.GUARANTEE_FORFEITED: "برنده در مهلت مقرر قرارداد را امضا نکرد؛ تضمین او ضبط شد.",
    Reason.OPENING_TOO_EARLY: "بازگشایی پیش از زمان مقرر ممکن نیست.",
    Reason.QUORUM_NOT_MET: "حد نصاب اعضای کمیسیون (یا جانشینان آنان) با سهم یا امضای معتبر فراهم نیست.",
    Reason.SECURITY_REP_ABSENT: "سهم کلید نمایندهٔ حراست در دسترس نیست؛ بازگشایی ممکن نیست.",
    Reason.CERT_UNTRUSTED: "گواهی امضاکننده به مرجع مورد اعتماد زنجیر نمی‌شود.",
    Reason.CERT_EXPIRED: "گواهی امضاکننده در زمان امضا معتبر نبوده است.",
    Reason.CERT_REVOKED: "گواهی امضاکننده پیش از زمان امضا باطل شده است.",
    Reason.SIGNER_NOT_IN_ROLE: "امضاکننده در آن تاریخ این سمت را در این واحد نداشته است.",
    Reason.SIGNATURE_INVALID: "امضا معتبر نیست؛ سند پس از امضا تغییر کرده یا امضا نادرست است.",
    Reason.TOKEN_PIN_INVALID: "رمز توکن نادرست است یا توکن قفل شده است.",
    Reason.NO_CONTRACT_CODE: "قرارداد کد قرارداد ندارد؛ ثبت سند هزینه یا پرداخت غیرقانونی است.",
    Reason.CONTRACT_NOT_FINAL: "گردش ثبت قرارداد به مرحلهٔ نهایی نرسیده است.",
    Reason.BUDGET_LINE_MISSING: "ردیف بودجه مشخص نشده است.",
    Reason.EXPENSE_FACTOR_MISSING: "عامل هزینه مشخص نشده است.",
    Reason.STATEMENT_NOT_SIGNED: "یکی از امضاهای لازم صورت‌وضعیت (پیمانکار، ذی‌حساب، ...) وجود ندارد.",
    Reason.STATEMENT_EXCEEDS_CONTRACT: "مبلغ تجمعی صورت‌وضعیت از مبلغ قرارداد به‌اضافهٔ تغییر مجاز بیشتر است.",
    Reason.RESOURCES_NOT_REPORTED: "تعداد خودروها یا کارگران فعال گزارش نشده است؛ تأیید متوقف شد.",
    Reason.DUPLICATE_PAYMENT: "این صورت‌وضعیت قبلاً پرداخت شده است.",
    Reason.STATEMENT_NOT_APPROVED: "صورت‌وضعیت تأیید نشده است (متوقف یا رد شده).",
    Reason.REGISTRATION_WITHOUT_WORKFLOW_DISABLED: "ثبت قرارداد بدون گردش برای این واحد در این تاریخ مجاز نیست.",
    Reason.FIELD_MISSING: "یکی از اقلامی که در سامانهٔ شفافیت نمایش داده می‌شود خالی است.",
    Reason.THRESHOLDS_NOT_CONFIGURED: "جدول نصاب معاملات برای این سال تعریف نشده است.",
    Reason.SIGNING_TIME_SKEW: "زمان امضای اعلام‌شده با زمان دریافت در سامانه بیش از حد مجاز فاصله دارد.",
    Reason.BID_NOT_OWNED: "پیشنهاد را فقط شرکتی که آن را ارسال کرده می‌تواند جایگزین کند.",
    Reason.OFFER_TOO_LOW: "پیشنهاد به اندازهٔ حداقل افزایش از بهترین پیشنهاد فعلی بیشتر نیست.",
    Reason.AUCTION_CLOSED: "پیشنهاد پس از پایان مهلت حراج رسیده است.",
    Reason.BLACKLISTED: "پیمانکار در فهرست سیاه منتشرشده است.",
    Reason.NOT_AUTHENTICATED: "درخواست احراز هویت معتبر با توکن ندارد.",
    Reason.NOT_AUTHORISED: "این شخص در آن واحد و در آن تاریخ سمت لازم برای این اقدام را ندارد.",
    Reason.STORE_TAMPERED: "آنچه در پایگاه داده است با آنچه امضا یا در گزارش ممیزی ثبت شده نمی‌خواند.",
    Reason.RULE_CHANGE_NOT_APPROVED: "تغییر تقویم قواعد بدون تأیید لازم است یا قاعده‌ای را دوباره خاموش می‌کند.",
    Reason.TOKEN_NOT_FOUND: "توکنی با این برچسب پیدا نشد یا از دستگاه جدا شده است.",
    Reason.INVALID_INPUT: "ورودی نامعتبر است.",
    Reason.UNKNOWN_UNIT: "واحد سازمانی ناشناخته است.",
    Reason.DUPLICATE_BID: "این پیشنهاد قبلاً ثبت شده است.",
    Reason.MALFORMED_XML: "سند XML نامعتبر یا ناامن است.",
    Reason.AMOUNT_OUT_OF_RANGE: "مبلغ خارج از محدودهٔ مجاز است.",
    Reason.STORE_UNREACHABLE: "پایگاه داده در دسترس نیست.",
    Reason.POLICY_INVALID: "پروندهٔ سیاست نامعتبر است.",
    Reason.AUDIT_APPEND_ONLY: "گزارش ممیزی فقط افزودنی است؛ ویرایش یا حذف آن ممکن نیست.",
    Reason.MINUTES_FINAL: "صورتجلسه نهایی شده است و تغییر نمی‌کند.",
    Reason.WRONG_STAGE: "این اقدام در مرحلهٔ فعلی مجاز نیست.",
    Reason.NOT_FOUND: "موردی با این شناسه در سامانه یافت نشد.",
    Reason.REQUEST_TOO_LARGE: "حجم درخواست از سقف مجاز بیشتر است.",
    Reason.INTERNAL_ERROR: "خطای داخلی سامانه رخ داد؛ جزئیات در گزارش سرور ثبت شد.",
    Reason.REGISTRATION_MODE_NOT_ALLOWED: "این شیوهٔ ثبت قرارداد (مثلاً چابک) برای این واحد در این تاریخ در تقویم قواعد باز نیست.",
    Reason.HAND_ENTRY_NOT_ALLOWED: "ورود دستی اطلاعات ملک فقط برای معاملات مناطق با مساحت کمتر از ۱۰۰ مترمربع مجاز است؛ اطلاعات باید از سامانهٔ املاک خوانده شود.",
    Reason.INCOME_CONTRACT_NO_STATEMENT: "قرارداد درآمدی صورت‌وضعیت ندارد؛ خریدار یا مستأجر به شهرداری می‌پردازد و دریافت‌ها به کد قرارداد ثبت می‌شود.",
}


class DomainError(Exception):
    """A refusal that carries a reason code and a Persian message for people."""

    def __init__(self, reason: Reason, detail: str = "", **context: object) -> None:
        self.reason = Reason(reason)
        self.detail = detail
        self.context = context
        super().__init__(f"{self.reason.value}: {self.message_fa}")

    @property
    def message_fa(self) -> str:
        msg = self.reason.message_fa
        return f"{msg} ({self.detail})" if self.detail else msg

    def to_dict(self) -> dict[str, object]:
        return {"reason": self.reason.value, "message": self.message_fa,
                **{k: str(v) for k, v in self.context.items()}}
