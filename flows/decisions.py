"""Human decisions in a flow: one interface, two implementations.

`FormDecisions` pauses the flow run with a pydantic RunInput form that operators answer in the
Prefect UI (Persian labels and descriptions); `ScriptedDecisions` answers from a pilot scenario."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import pause_flow_run
from prefect.input import RunInput
from pydantic import Field, create_model

from domain.persian import normalize_digits
from services.ports import Attendance, Confirmation, Decisions, Scores  # noqa: F401 (Decisions: the port)

ANSWERED_BY_TITLE = "کد ملی پاسخ‌دهنده"
ANSWERED_BY_FA = "کد ملی کسی که این فرم را پاسخ می‌دهد (در گزارش ممیزی ثبت می‌شود)"


class AttendanceForm(RunInput):
    """حضور اعضای کمیسیون ماده ۱۳ در جلسه"""

    confirmed: bool = Field(default=False, title="تأیید رئیس جلسه",
                            description="رئیس جلسه حضور اعضا و نمایندهٔ حراست را تأیید می‌کند")
    answered_by: str = Field(title=ANSWERED_BY_TITLE, description=ANSWERED_BY_FA)


def attendance_form(members: dict[str, str]) -> type[RunInput]:
    """The attendance form of one sitting: a switch per member, titled with name and role, none
    switched on in advance (presence is the chair's decision), then the chair's confirmation."""
    fields: dict[str, Any] = {
        f"member_{i}": (bool, Field(default=False, title=label, description="حاضر در جلسه با توکن خود"))
        for i, label in enumerate(members.values())}
    fields.update({name: (f.annotation, f) for name, f in AttendanceForm.model_fields.items()})
    return create_model("AttendanceForm", __base__=RunInput, **fields)


class TechnicalScoresForm(RunInput):
    """امتیازهای فنی پاکت ب (مناقصهٔ دومرحله‌ای)"""

    scores: dict[str, int] = Field(title="امتیاز فنی", description="امتیاز فنی هر پیشنهاددهنده از ۱۰۰")
    answered_by: str = Field(title=ANSWERED_BY_TITLE, description=ANSWERED_BY_FA)


class MinutesConfirmationForm(RunInput):
    """تأیید صورتجلسهٔ تولیدشده پیش از امضای اعضا"""

    confirmed: bool = Field(default=False, title="تأیید صورتجلسه",
                            description="نمایندهٔ مجاز معاون مسئول، صورتجلسهٔ تولیدشده از فهرست بها و فرمول‌های "
                                        "مصوب را تأیید می‌کند تا اعضا در جلسه امضا کنند")
    note: str = Field(default="", title="توضیح", description="در صورت عدم تأیید، علت را بنویسید")
    answered_by: str = Field(title=ANSWERED_BY_TITLE, description=ANSWERED_BY_FA)


class ContractSignatureForm(RunInput):
    """امضای قرارداد توسط برنده در مهلت مقرر"""

    signed: bool = Field(default=False, title="قرارداد امضا شد", description="آیا برنده قرارداد را در مهلت امضا کرد؟")
    answered_by: str = Field(title=ANSWERED_BY_TITLE, description=ANSWERED_BY_FA)


SESSION_FA = {"opening": "بازگشایی پاکت‌ها", "price_opening": "بازگشایی پاکت‌های ج"}
# An unconfirmed attendance is asked again this many times before the sitting is blocked.
ATTENDANCE_ASKS = 3


class FormDecisions:
    """Operators answer in the Prefect UI; the run waits paused (up to `timeout` seconds). Nothing
    that is a decision is filled in advance, and every form asks who answers."""

    def __init__(self, timeout: int = 3600) -> None:
        self.timeout = timeout

    def attendance(self, tender_id: str, session: str, members: dict[str, str], at: datetime) -> Attendance:
        form = attendance_form(members)
        note = ""
        for _ in range(ATTENDANCE_ASKS):
            answer = pause_flow_run(wait_for_input=form.with_initial_data(
                description=f"{note}حضور در جلسهٔ {SESSION_FA.get(session, session)} مناقصهٔ {tender_id}: "
                            "اعضای حاضر را روشن کنید و حضور را تأیید کنید."), timeout=self.timeout)
            data = answer.model_dump()
            if data["confirmed"]:
                break
            note = "حضور تأیید نشد؛ دوباره پاسخ دهید. "
        present = [mid for i, mid in enumerate(members) if data[f"member_{i}"]]
        return Attendance(present, bool(data["confirmed"]), normalize_digits(data["answered_by"]).strip())

    def technical_scores(self, tender_id: str, bidders: list[str]) -> Scores:
        answer = pause_flow_run(wait_for_input=TechnicalScoresForm.with_initial_data(
            description=f"امتیاز فنی پیشنهادهای مناقصهٔ {tender_id}: " + "، ".join(bidders)), timeout=self.timeout)
        return Scores(dict(answer.scores), normalize_digits(answer.answered_by).strip())

    def confirm_minutes(self, tender_id: str, summary: str) -> Confirmation:
        answer = pause_flow_run(wait_for_input=MinutesConfirmationForm.with_initial_data(
            description=f"صورتجلسهٔ ماده ۱۳ مناقصهٔ {tender_id}: {summary}"), timeout=self.timeout)
        return Confirmation(bool(answer.confirmed), normalize_digits(answer.answered_by).strip(), answer.note)

    def contract_signed(self, tender_id: str, bidder: str, at: datetime) -> Confirmation:
        answer = pause_flow_run(wait_for_input=ContractSignatureForm.with_initial_data(
            description=f"امضای قرارداد مناقصهٔ {tender_id} توسط {bidder}"), timeout=self.timeout)
        return Confirmation(bool(answer.signed), normalize_digits(answer.answered_by).strip())
