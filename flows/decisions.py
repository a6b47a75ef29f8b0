"""Human decisions in a flow: one interface, two implementations.

`FormDecisions` pauses the flow run with a pydantic RunInput form that operators answer in the
Prefect UI (Persian labels and descriptions); `ScriptedDecisions` answers from a pilot scenario."""
from __future__ import annotations

from datetime import datetime

from prefect import pause_flow_run
from prefect.input import RunInput
from pydantic import Field

from services.ports import Decisions  # noqa: F401  (the port FormDecisions implements)


class AttendanceForm(RunInput):
    """حضور اعضای کمیسیون ماده ۱۳ در جلسه"""

    present: list[str] = Field(title="اعضای حاضر", description="شناسهٔ اعضای حاضر در جلسه (هر عضو با توکن خود)")
    confirmed: bool = Field(default=False, title="تأیید رئیس جلسه",
                            description="رئیس جلسه حضور اعضا و نمایندهٔ حراست را تأیید می‌کند")


class TechnicalScoresForm(RunInput):
    """امتیازهای فنی پاکت ب (مناقصهٔ دومرحله‌ای)"""

    scores: dict[str, int] = Field(title="امتیاز فنی", description="امتیاز فنی هر پیشنهاددهنده از ۱۰۰")


class MinutesConfirmationForm(RunInput):
    """تأیید صورتجلسهٔ تولیدشده پیش از امضای اعضا"""

    confirmed: bool = Field(title="تأیید صورتجلسه", description="نمایندهٔ مجاز معاون مسئول، صورتجلسهٔ تولیدشده "
                            "از فهرست بها و فرمول‌های مصوب را تأیید می‌کند تا اعضا در جلسه امضا کنند")
    note: str = Field(default="", title="توضیح", description="در صورت عدم تأیید، علت را بنویسید")


class ContractSignatureForm(RunInput):
    """امضای قرارداد توسط برنده در مهلت مقرر"""

    signed: bool = Field(title="قرارداد امضا شد", description="آیا برنده قرارداد را در مهلت امضا کرد؟")


SESSION_FA = {"opening": "بازگشایی پاکت‌ها", "price_opening": "بازگشایی پاکت‌های ج"}


def prefilled(form: type[RunInput], **values):
    """Initial values that keep each field's Persian title and description in the UI form
    (Prefect's with_initial_data(name=value) replaces the field and loses them)."""
    fields = {}
    for name, value in values.items():
        f = form.model_fields[name]
        fields[name] = Field(default=value, title=f.title, description=f.description)
    return fields


class FormDecisions:
    """Operators answer in the Prefect UI; the run waits paused (up to `timeout` seconds)."""

    def __init__(self, timeout: int = 3600) -> None:
        self.timeout = timeout

    def attendance(self, tender_id: str, session: str, members: dict[str, str], at: datetime) -> list[str]:
        answer = pause_flow_run(wait_for_input=AttendanceForm.with_initial_data(
            description=f"حضور در جلسهٔ {SESSION_FA.get(session, session)} مناقصهٔ {tender_id}. اعضا: " +
                        "، ".join(f"{k} ({v})" for k, v in members.items()),
            **prefilled(AttendanceForm, present=sorted(members))), timeout=self.timeout)
        return list(answer.present)

    def technical_scores(self, tender_id: str, bidders: list[str]) -> dict[str, int]:
        answer = pause_flow_run(wait_for_input=TechnicalScoresForm.with_initial_data(
            description=f"امتیاز فنی پیشنهادهای مناقصهٔ {tender_id}",
            **prefilled(TechnicalScoresForm, scores={b: 0 for b in bidders})),
            timeout=self.timeout)
        return dict(answer.scores)

    def confirm_minutes(self, tender_id: str, summary: str) -> bool:
        answer = pause_flow_run(wait_for_input=MinutesConfirmationForm.with_initial_data(
            description=f"صورتجلسهٔ ماده ۱۳ مناقصهٔ {tender_id}: {summary}",
            **prefilled(MinutesConfirmationForm, confirmed=True)), timeout=self.timeout)
        return bool(answer.confirmed)

    def contract_signed(self, tender_id: str, bidder: str, at: datetime) -> bool:
        answer = pause_flow_run(wait_for_input=ContractSignatureForm.with_initial_data(
            description=f"امضای قرارداد مناقصهٔ {tender_id} توسط {bidder}",
            **prefilled(ContractSignatureForm, signed=True)), timeout=self.timeout)
        return bool(answer.signed)
