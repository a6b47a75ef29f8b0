from __future__ import annotations

from datetime import datetime, timezone

import pytest

from domain.reasons import DomainError, Reason
from integrations.notifications import Template, normalize_mobile, render, template_params
from integrations.stubs.notifications import SmsOutboxStub

DEADLINE = datetime(2021, 7, 3, 10, 30, tzinfo=timezone.utc)  # 1400/04/12 15:00 Tehran
SAMPLE_PARAMS = {
    Template.TOKEN_REQUIRED: {"name": "مریم احمدی", "deadline": DEADLINE, "support": "۱۳۷"},
    Template.ESIGNATURE_REQUIRED: {"name": "مریم احمدی", "effective_date": DEADLINE.date(),
                                   "unit": "منطقهٔ ۱۲", "support": "۱۳۷"},
    Template.BID_RECEIPT: {"tender_title": "آسفالت معابر", "received_at": DEADLINE, "receipt_id": "R-42"},
    Template.WINNER_NOTIFICATION: {"tender_title": "آسفالت معابر", "amount_rial": 1_395_000_000,
                                   "signing_deadline": DEADLINE},
    Template.STATEMENT_TO_SIGN: {"statement_id": "s1", "contract_code": "C-1400-0001"},
    # Issue 13 part 5 (R26): every step that concerns a contractor.
    Template.OPENING_RESULT: {"tender_title": "آسفالت معابر", "outcome": "نفر دوم"},
    Template.CONTRACT_STAGE: {"tracking_number": "T-12-1", "tender_title": "آسفالت معابر", "stage": "بررسی حقوقی",
                              "next_stage": "تأمین اعتبار"},
    Template.CONTRACT_CODE: {"tender_title": "آسفالت معابر", "contract_code": "12-1400-000001-K"},
    Template.STATEMENT_APPROVED: {"statement_id": "s1", "contract_code": "C-1400-0001", "payable_rial": 3_609_525_000},
    Template.STATEMENT_RETURNED: {"statement_id": "s1", "contract_code": "C-1400-0001", "reason": "امضا نشده است"},
    Template.PAYMENT_MADE: {"amount_rial": 3_609_525_000, "statement_id": "s1", "contract_code": "C-1400-0001"},
    Template.SUPPORT_REPLY: {"request_id": "12", "subject": "توکن کار نمی‌کند"},
}


@pytest.fixture
def sms(engine, clock) -> SmsOutboxStub:
    return SmsOutboxStub(engine, clock)


@pytest.mark.parametrize("raw", ["09121234567", "+989121234567", "00989121234567", "۰۹۱۲۱۲۳۴۵۶۷",
                                 "٠٩١٢١٢٣٤٥٦٧", "0912 123 4567", "+98 912-123-4567"])
def test_r26_mobile_number_forms_are_normalised(raw):
    assert normalize_mobile(raw) == "09121234567"


@pytest.mark.parametrize("raw", ["", "9121234567", "0912123456", "091212345678", "08121234567",
                                 "+19121234567", "0912abc4567", "+9809121234567"])
def test_r26_invalid_mobile_numbers_are_refused(sms, raw):
    with pytest.raises(DomainError) as exc:
        sms.notify(raw, "b1", Template.STATEMENT_TO_SIGN, SAMPLE_PARAMS[Template.STATEMENT_TO_SIGN], "k1")
    assert exc.value.reason is Reason.INVALID_INPUT
    assert sms.outbox("b1") == []


@pytest.mark.parametrize("template", list(Template))
def test_r26_every_template_renders_persian_text_without_holes(template):
    text = render(template, SAMPLE_PARAMS[template])
    assert "{" not in text and "}" not in text
    assert any("\u0600" <= ch <= "\u06ff" for ch in text)
    assert set(SAMPLE_PARAMS[template]) == template_params(template)


def test_r26_times_and_amounts_are_shown_in_jalali_and_persian_digits():
    text = render(Template.WINNER_NOTIFICATION, SAMPLE_PARAMS[Template.WINNER_NOTIFICATION])
    assert "۱۴۰۰/۰۴/۱۲ ۱۵:۰۰" in text and "۱٬۳۹۵٬۰۰۰٬۰۰۰" in text


@pytest.mark.parametrize("template, params", [
    (Template.BID_RECEIPT, {"tender_title": "x", "received_at": DEADLINE}),                # missing
    (Template.BID_RECEIPT, {**SAMPLE_PARAMS[Template.BID_RECEIPT], "receipt_id": " "}),  # blank
    (Template.STATEMENT_TO_SIGN, {**SAMPLE_PARAMS[Template.STATEMENT_TO_SIGN], "extra": 1}),
    ("no_such_template", {}),
])
def test_r26_template_parameters_must_fit(sms, template, params):
    with pytest.raises(DomainError) as exc:
        sms.notify("09121234567", "b1", template, params, "k1")
    assert exc.value.reason is Reason.INVALID_INPUT


def test_r26_same_dedup_key_sends_once(sms):
    params = SAMPLE_PARAMS[Template.TOKEN_REQUIRED]
    first = sms.notify("09121234567", "b1", Template.TOKEN_REQUIRED, params, "token:b1")
    again = sms.notify("+989121234567", "b1", "token_required", params, "token:b1")
    assert again == first
    assert len(sms.outbox("b1")) == 1


def test_r26_dedup_key_of_another_message_is_refused(sms):
    sms.notify("09121234567", "b1", Template.TOKEN_REQUIRED, SAMPLE_PARAMS[Template.TOKEN_REQUIRED], "k")
    with pytest.raises(DomainError) as exc:
        sms.notify("09351234567", "b2", Template.TOKEN_REQUIRED, SAMPLE_PARAMS[Template.TOKEN_REQUIRED], "k")
    assert exc.value.reason is Reason.INVALID_INPUT
    assert sms.outbox("b2") == []


def test_r26_outbox_lists_each_recipients_messages_and_delivery(sms, clock):
    sms.notify("09121234567", "b1", Template.BID_RECEIPT, SAMPLE_PARAMS[Template.BID_RECEIPT], "receipt:R-42")
    sms.notify("09121234567", "b1", Template.WINNER_NOTIFICATION,
               SAMPLE_PARAMS[Template.WINNER_NOTIFICATION], "winner:TND-42")
    sms.notify("09351234567", "b2", Template.STATEMENT_TO_SIGN,
               SAMPLE_PARAMS[Template.STATEMENT_TO_SIGN], "statement:s1")
    assert [m.template for m in sms.outbox("b1")] == ["bid_receipt", "winner_notification"]
    assert all(m.status == "queued" for m in sms.outbox("b1"))
    delivered = sms.deliver_pending()
    assert len(delivered) == 3 and sms.deliver_pending() == []
    assert all(m.status == "sent" and m.sent_at == clock.now() for m in sms.outbox("b2"))
    assert "C-1400-0001" in sms.outbox("b2")[0].text
