"""Human decisions in a flow: one interface, two implementations.

`FormDecisions` pauses the flow run with a pydantic RunInput form that operators answer in the
Prefect UI (Persian labels and descriptions), and waits for the members' signatures made at their
own stations by watching the store; `ScriptedDecisions` (pilot.decisions) answers from a pilot
scenario."""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import uuid4

from prefect import pause_flow_run
from prefect.context import FlowRunContext
from prefect.input import RunInput
from pydantic import Field, create_model

from domain.persian import normalize_digits
from services.deps import current
from services.ports import Attendance, Confirmation, Decisions, Scores  # noqa: F401 (Decisions: the port)
from services.tender.minutes import all_signed

RLI, PDI = "\u2067", "\u2069"
T = TypeVar("T", bound=RunInput)


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


def ask(form: type[T], timeout: int, poll_seconds: float) -> T:
    """Pause the run on `form` (a RunInput, answered in the Prefect UI) for up to `timeout` seconds,
    looking for the answer every `poll_seconds` (whole seconds, at least 1; Prefect's own default is
    10 s, which an operator waited after every answer). Each pause has a key of its own: a run that
    suspended or crashed starts over, and Prefect would otherwise take a new form for an old one
    already answered (pause keys count from one in each process) and hand back that old answer."""
    return pause_flow_run(wait_for_input=form, timeout=timeout, poll_interval=max(1, round(poll_seconds)),
                          key=f"{form.__name__.lower()}-{uuid4().hex}")


class FormDecisions:
    """Operators answer in the Prefect UI; the run waits paused (up to `timeout` seconds). Nothing
    that is a decision is filled in advance, and every form asks who answers. Releases and signatures
    are not forms: members act at their own stations (`eproc session join`, `eproc minutes sign`) and
    the run waits suspended, holding no worker, until the API resumes it when they are complete or
    `timeout` seconds after the sitting opened or the document was generated (flows.runtime.
    suspend_until). A run that cannot suspend (no deployment) watches the store every `poll_seconds`."""

    def __init__(self, timeout: int = 3600, poll_seconds: float = 5.0) -> None:
        self.timeout = timeout
        self.poll_seconds = poll_seconds

    def attendance(self, tender_id: str, session: str, members: dict[str, str], at: datetime) -> Attendance:
        chairs = chairs_of(tender_id, members)
        form = attendance_form(members, list(chairs))
        note = ""
        for _ in range(ATTENDANCE_ASKS):
            answer = ask(form.with_initial_data(description=rtl(
                f"{note}حضور در جلسهٔ {SESSION_FA.get(session, session)} مناقصهٔ {tender_id}: "
                "اعضای حاضر را روشن کنید، پاسخ‌دهنده را برگزینید و حضور را تأیید کنید.")), self.timeout, self.poll_seconds)
            data = answer.model_dump()
            chosen = [nid for i, nid in enumerate(chairs.values()) if data.get(f"answered_by_{i}")]
            if data["confirmed"] and len(chosen) == 1:
                break
            note = "حضور تأیید نشد یا پاسخ‌دهنده یک نفر نیست؛ دوباره پاسخ دهید. "
        present = [mid for i, mid in enumerate(members) if data[f"member_{i}"]]
        return Attendance(present, bool(data["confirmed"]), chosen[0] if len(chosen) == 1 else "")

    def technical_scores(self, tender_id: str, bidders: list[str]) -> Scores:
        answer = ask(TechnicalScoresForm.with_initial_data(
            description=rtl(f"امتیاز فنی پیشنهادهای مناقصهٔ {tender_id}: " + "، ".join(bidders))), self.timeout, self.poll_seconds)
        return Scores(dict(answer.scores), normalize_digits(answer.answered_by).strip())

    def confirm_minutes(self, tender_id: str, summary: str) -> Confirmation:
        answer = ask(MinutesConfirmationForm.with_initial_data(
            description=rtl(f"صورتجلسهٔ ماده ۱۳ مناقصهٔ {tender_id}: {summary}")), self.timeout, self.poll_seconds)
        return Confirmation(bool(answer.confirmed), normalize_digits(answer.answered_by).strip(), answer.note)

    def contract_signed(self, tender_id: str, bidder: str, at: datetime) -> Confirmation:
        answer = ask(ContractSignatureForm.with_initial_data(
            description=rtl(f"امضای قرارداد مناقصهٔ {tender_id} توسط {bidder}")), self.timeout, self.poll_seconds)
        return Confirmation(bool(answer.signed), normalize_digits(answer.answered_by).strip())

    def release_parts(self, tender_id: str, session: str, members: dict[str, str], at: datetime) -> None:
        # The engine holds no member's token: it waits for the quorum and the security representative to
        # release their parts (`eproc session join` at their stations), suspended when it can.
        from flows.runtime import can_suspend, publish_sitting, suspend_until
        from services.tender import quorum_released, released_members
        from services.tender.progress import sitting_deadline

        deps = current()

        def ready() -> bool:
            return quorum_released(deps, tender_id, session)

        deadline = sitting_deadline(deps, tender_id, session, self.timeout)
        if deadline is not None and can_suspend():
            publish_sitting(tender_id, session)  # the seats; the API refreshes them as members release
            suspend_until(tender_id, ready, deadline, f"release-{session}")
        else:
            self._poll(ready, lambda: released_members(deps, tender_id, session),
                       lambda: publish_sitting(tender_id, session))

    def minutes_signed(self, tender_id: str, kind: str, signers: list[str]) -> None:
        # The engine holds no member's token: it waits for their signatures made at their stations,
        # suspended when it can.
        from flows.runtime import can_suspend, publish_signatures, suspend_until
        from services.tender import minutes_to_sign
        from services.tender.progress import signing_wait_deadline

        deps = current()

        def ready() -> bool:
            return all_signed(deps, tender_id, kind)

        deadline = signing_wait_deadline(deps, tender_id, kind, self.timeout)
        if deadline is not None and can_suspend():
            publish_signatures(tender_id, kind)  # who has signed; the API refreshes it as members sign
            suspend_until(tender_id, ready, deadline, f"sign-{kind}")
        else:
            self._poll(ready, lambda: list(minutes_to_sign(deps, tender_id, kind).signed),
                       lambda: publish_signatures(tender_id, kind))

    def _poll(self, ready: Callable[[], bool], progress: Callable[[], list[str]], show: Callable[[], object]) -> None:
        """Watch the store every `poll_seconds` (up to `timeout` seconds) where the run cannot suspend
        (a run without a deployment), refreshing the operators' view (`show`) when `progress` changes."""
        deadline = time.monotonic() + self.timeout
        in_run = FlowRunContext.get() is not None  # artifacts belong to a run (outside one: nothing to show)
        shown: list[str] | None = None
        while True:
            now = progress()
            if now != shown and in_run:
                show()
                shown = now
            if ready():
                return
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(self.poll_seconds, left))
