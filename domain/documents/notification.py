"""The Article 18 notification (ابلاغ ماده ۱۸) to the winner, generated from the final minutes
and e-signed by the chair (R11)."""
from __future__ import annotations

from datetime import datetime, timedelta

from lxml import etree

from domain.documents.minutes import MinutesVersions, award_of
from domain.documents.xmlcommon import body_digest, new_document, sub, time_attrs
from domain.reasons import DomainError, Reason
from domain.tender.evaluation import performance_guarantee_rial

NS = "urn:tehran:eproc:notification:1"


def build_notification(minutes: MinutesVersions, notified_at: datetime, bidder_id: str | None = None,
                       version: int = 1) -> etree._Element:
    """Notice to the winner (or, after the winner forfeits, to the runner-up) with the amount,
    the performance guarantee and the signing deadline, bound to the minutes by their digest."""
    if not minutes.is_final:
        raise DomainError(Reason.WRONG_STAGE, "ابلاغ فقط از صورتجلسهٔ نهایی صادر می‌شود")
    doc = minutes.document
    award = award_of(doc)
    if not award.awarded:
        raise DomainError(Reason.WRONG_STAGE, "فرایند برنده ندارد")
    bidder_id = bidder_id or award.winner
    if bidder_id is None or bidder_id not in (award.winner, award.runner_up):
        raise DomainError(Reason.INVALID_INPUT, f"{bidder_id} برندهٔ اول یا دوم صورتجلسه نیست")
    amount = award.prices[bidder_id]
    deadline = notified_at + timedelta(days=award.signing_days)
    root, body = new_document(NS, "Notification", version)
    sub(body, "Minutes", tender_id=award.tender_id, version=award.version, body_sha256=body_digest(doc))
    tender = sub(body, "Tender", id=award.tender_id, unit=award.unit)
    sub(tender, "Title", award.title)
    sub(body, "Bidder", id=bidder_id, position="winner" if bidder_id == award.winner else "runner_up")
    sub(body, "Amount", rial=amount)
    sub(body, "PerformanceGuarantee", rial=performance_guarantee_rial(amount, award.performance_guarantee_rate),
        rate=str(award.performance_guarantee_rate))
    sub(body, "NotifiedAt", **time_attrs(notified_at))
    sub(body, "SigningDeadline", days=award.signing_days, **time_attrs(deadline))
    sub(body, "Text", f"به استناد ماده ۱۸ آیین‌نامهٔ معاملات، پیشنهاد شما برگزیده شد؛ قرارداد را تا "
                      f"{time_attrs(deadline)['jalali']} امضا و ضمانت‌نامهٔ انجام تعهدات را ارائه کنید.")
    return root
