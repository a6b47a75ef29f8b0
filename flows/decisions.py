"""Human decisions in a flow: one interface, two implementations.

`FormDecisions` pauses the flow run with a pydantic RunInput form that operators answer in the
Prefect UI (Persian labels and descriptions), and waits for the members' signatures made at their
own stations by watching the store; `ScriptedDecisions` (pilot.decisions) answers from a pilot
scenario."""
from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from prefect import pause_flow_run
from prefect.input import RunInput
from pydantic import Field, create_model

from domain.persian import normalize_digits
from services.deps import current
from services.ports import Attendance, Confirmation, Decisions, Scores  # noqa: F401 (Decisions: the port)
from services.tender.minutes import all_signed

RLI, PDI = "\u2067", "\u2069"


def rtl(text: str) -> str:
    """Persian text isolated right-to-left (Unicode RLI ... PDI): the Prefect UI lays its labels out
    left-to-right, which put a Persian sentence's punctuation and Latin ids on the wrong side."""
    return f"{RLI}{text}{PDI}"


ANSWERED_BY_TITLE = rtl("کد ملی پاسخ‌دهنده")
ANSWERED_BY_FA = rtl("کد ملی کسی که این فرم را پاسخ می‌دهد (در گزارش ممیزی ثبت می‌شود)")
CHAIR_PREFIX = "پاسخ‌دهنده: "
CHAIR_FA = rtl("فقط یک نفر: رئیس جلسه یا جانشین او که به این فرم پاسخ می‌دهد؛ نام او در گزارش ممیزی ثبت می‌شود")


class AttendanceForm(RunInput):
    """حضور اعضای کمیسیون ماده ۱۳ در جلسه"""

    confirmed: bool = Field(default=False, title=rtl("تأیید رئیس جلسه"),
                            description=rtl("رئیس جلسه حضور اعضا و نمایندهٔ حراست را تأیید می‌کند"))


def attendance_form(members: dict[str, str], chairs: list[str]) -> type[RunInput]:
    """The attendance form of one sitting: a switch per member, titled with name and role, none
    switched on in advance (presence is the chair's decision); then who answers, chosen from `chairs`
    (the chair and the chair's alternates, by name and role: one switch each, nothing typed); then the
    chair's confirmation."""
    fields: dict[str, Any] = {
        f"member_{i}": (bool, Field(default=False, title=rtl(label), description=rtl("حاضر در جلسه با توکن خود")))
        for i, label in enumerate(members.values())}
    fields.update({f"answered_by_{i}": (bool, Field(default=False, title=rtl(f"{CHAIR_PREFIX}{label}"),
                                                     description=CHAIR_FA))
                   for i, label in enumerate(chairs)})
    fields.update({name: (f.annotation, f) for name, f in AttendanceForm.model_fields.items()})
    return create_model("AttendanceForm", __base__=RunInput, **fields)


class TechnicalScoresForm(RunInput):
    """امتیازهای فنی پاکت ب (مناقصهٔ دومرحله‌ای)"""

    scores: dict[str, int] = Field(title=rtl("امتیاز فنی"), description=rtl("امتیاز فنی هر پیشنهاددهنده از ۱۰۰"))
    answered_by: str = Field(title=ANSWERED_BY_TITLE, description=ANSWERED_BY_FA)


class MinutesConfirmationForm(RunInput):
    """تأیید صورتجلسهٔ تولیدشده پیش از امضای اعضا"""

    confirmed: bool = Field(default=False, title=rtl("تأیید صورتجلسه"),
                            description=rtl("نمایندهٔ مجاز معاون مسئول، صورتجلسهٔ تولیدشده از فهرست بها و فرمول‌های "
                                            "مصوب را تأیید می‌کند تا اعضا در جلسه امضا کنند"))
    note: str = Field(default="", title=rtl("توضیح"), description=rtl("در صورت عدم تأیید، علت را بنویسید"))
    answered_by: str = Field(title=ANSWERED_BY_TITLE, description=ANSWERED_BY_FA)


class ContractSignatureForm(RunInput):
    """امضای قرارداد توسط برنده در مهلت مقرر"""

    signed: bool = Field(default=False, title=rtl("قرارداد امضا شد"),
                         description=rtl("آیا برنده قرارداد را در مهلت امضا کرد؟"))
    answered_by: str = Field(title=ANSWERED_BY_TITLE, description=ANSWERED_BY_FA)


SESSION_FA = {"opening": "بازگشایی پاکت‌ها", "price_opening": "بازگشایی پاکت‌های ج"}


def chairs_of(tender_id: str, members: dict[str, str]) -> dict[str, str]:
    """Who may answer the attendance form: the commission's chair and the chair's alternates, as the
    form lists them (name and role, `members`' labels) -> national ID (R08: only the chair confirms)."""
    from services.tender import load

    view = load(current(), tender_id)
    chair_ids = {mm.id for mm in view.members if mm.role.value == "chair" and mm.alternate_for is None}
    return {members.get(mm.id, mm.name): mm.national_id for mm in view.members
            if mm.id in chair_ids or mm.alternate_for in chair_ids}
# An unconfirmed attendance is asked again this many times before the sitting is blocked.
ATTENDANCE_ASKS = 3


class FormDecisions:
    """Operators answer in the Prefect UI; the run waits paused (up to `timeout` seconds). Nothing
    that is a decision is filled in advance, and every form asks who answers. Signatures are not a
    form: members sign at their own stations (`eproc minutes sign`) and the run watches the store
    every `poll_seconds` until they have (up to `timeout` seconds)."""

    def __init__(self, timeout: int = 3600, poll_seconds: float = 5.0) -> None:
        self.timeout = timeout
        self.poll_seconds = poll_seconds

    def attendance(self, tender_id: str, session: str, members: dict[str, str], at: datetime) -> Attendance:
        chairs = chairs_of(tender_id, members)
        form = attendance_form(members, list(chairs))
        note = ""
        for _ in range(ATTENDANCE_ASKS):
            answer = pause_flow_run(wait_for_input=form.with_initial_data(description=rtl(
                f"{note}حضور در جلسهٔ {SESSION_FA.get(session, session)} مناقصهٔ {tender_id}: "
                "اعضای حاضر را روشن کنید، پاسخ‌دهنده را برگزینید و حضور را تأیید کنید.")), timeout=self.timeout)
            data = answer.model_dump()
            chosen = [nid for i, nid in enumerate(chairs.values()) if data.get(f"answered_by_{i}")]
            if data["confirmed"] and len(chosen) == 1:
                break
            note = "حضور تأیید نشد یا پاسخ‌دهنده یک نفر نیست؛ دوباره پاسخ دهید. "
        present = [mid for i, mid in enumerate(members) if data[f"member_{i}"]]
        return Attendance(present, bool(data["confirmed"]), chosen[0] if len(chosen) == 1 else "")

    def technical_scores(self, tender_id: str, bidders: list[str]) -> Scores:
        answer = pause_flow_run(wait_for_input=TechnicalScoresForm.with_initial_data(
            description=rtl(f"امتیاز فنی پیشنهادهای مناقصهٔ {tender_id}: " + "، ".join(bidders))), timeout=self.timeout)
        return Scores(dict(answer.scores), normalize_digits(answer.answered_by).strip())

    def confirm_minutes(self, tender_id: str, summary: str) -> Confirmation:
        answer = pause_flow_run(wait_for_input=MinutesConfirmationForm.with_initial_data(
            description=rtl(f"صورتجلسهٔ ماده ۱۳ مناقصهٔ {tender_id}: {summary}")), timeout=self.timeout)
        return Confirmation(bool(answer.confirmed), normalize_digits(answer.answered_by).strip(), answer.note)

    def contract_signed(self, tender_id: str, bidder: str, at: datetime) -> Confirmation:
        answer = pause_flow_run(wait_for_input=ContractSignatureForm.with_initial_data(
            description=rtl(f"امضای قرارداد مناقصهٔ {tender_id} توسط {bidder}")), timeout=self.timeout)
        return Confirmation(bool(answer.signed), normalize_digits(answer.answered_by).strip())

    def release_parts(self, tender_id: str, session: str, members: dict[str, str], at: datetime) -> None:
        # The engine holds no member's token: it watches the store until the quorum and the security
        # representative have released their parts (`eproc session join` at their stations).
        from flows.runtime import publish_sitting
        from services.tender import quorum_released, released_members

        deps = current()
        deadline = time.monotonic() + self.timeout
        shown: list[str] | None = None
        while not quorum_released(deps, tender_id, session):
            released = sorted(released_members(deps, tender_id, session))
            if released != shown:  # the operators' view of the seats, refreshed as members release
                publish_sitting(tender_id, session)
                shown = released
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(self.poll_seconds, left))

    def minutes_signed(self, tender_id: str, kind: str, signers: list[str]) -> None:
        # The engine holds no member's token: it only watches the store for their signatures.
        deps = current()
        deadline = time.monotonic() + self.timeout
        while not all_signed(deps, tender_id, kind):
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(self.poll_seconds, left))
