from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, timezone

import pytest
from ext_factories import refusal

from domain.reasons import Reason
from integrations.announcement import Notice, NoticeDocument
from integrations.stubs.announcement import AnnouncementPortalStub

# What the policy calendar would require for this unit and date (transition period).
PHRASES = ["اسناد به‌صورت الکترونیکی دریافت می‌شود", "امضای الکترونیکی",
           "نسخهٔ کاغذی نیز تحویل شود"]
TEXT = ("آگهی مناقصهٔ عمومی یک‌مرحله‌ای آسفالت معابر منطقهٔ ۱۲. اسناد به‌صورت الکترونیکی دریافت می‌شود "
        "و در دورهٔ گذار نسخهٔ کاغذی نیز تحویل شود. همهٔ اسناد با امضای الکترونیکی معتبرند.")
SPEC = "شرایط عمومی پیمان".encode()


def doc(content: bytes = SPEC, name: str = "specs.pdf") -> NoticeDocument:
    return NoticeDocument(name, hashlib.sha256(content).hexdigest(), len(content), content)


def notice(**changes: object) -> Notice:
    base = Notice(tender_id="TND-1400-0042", unit="district-12", title="آسفالت معابر", text=TEXT,
                  documents=(doc(),), published_at=datetime(2021, 6, 22, 5, 30, tzinfo=timezone.utc))
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def portal(engine, clock) -> AnnouncementPortalStub:
    return AnnouncementPortalStub(engine, clock)


def test_r02_notice_is_published_with_downloadable_documents(portal):
    published = portal.publish_notice(notice(), PHRASES)
    assert published.version == 1 and published.documents[0].sha256 == hashlib.sha256(SPEC).hexdigest()
    assert portal.download("TND-1400-0042", "specs.pdf") == SPEC
    assert [n.version for n in portal.notices("TND-1400-0042")] == [1]


def test_r02_notice_not_stating_the_submission_rules_is_refused(portal):
    text = TEXT.replace("نسخهٔ کاغذی نیز تحویل شود", "")
    err = refusal(portal.publish_notice, notice(text=text), PHRASES)
    assert err.reason is Reason.FIELD_MISSING and "نسخهٔ کاغذی نیز تحویل شود" in err.detail
    assert portal.notices("TND-1400-0042") == []


def test_r02_notice_not_stating_electronic_signature_is_refused(portal):
    err = refusal(portal.publish_notice, notice(text=TEXT.replace("امضای الکترونیکی", "امضا")), PHRASES)
    assert err.reason is Reason.FIELD_MISSING and "امضای الکترونیکی" in err.detail


def test_r02_phrases_match_despite_arabic_letters_and_zwnj(portal):
    typed = TEXT.replace("الکترونیکی", "الكترونيكي").replace("می‌شود", "می شود")
    assert portal.publish_notice(notice(text=typed), PHRASES).version == 1


def test_r02_notice_without_documents_is_refused(portal):
    err = refusal(portal.publish_notice, notice(documents=()), PHRASES)
    assert err.reason is Reason.FIELD_MISSING and "documents" in err.detail


def test_r02_notice_without_policy_phrases_is_refused(portal):
    assert refusal(portal.publish_notice, notice(), []).reason is Reason.FIELD_MISSING


@pytest.mark.parametrize("bad", [
    NoticeDocument("specs.pdf", "abc", 10),
    NoticeDocument("specs.pdf", hashlib.sha256(SPEC).hexdigest(), 0),
    NoticeDocument("specs.pdf", hashlib.sha256(SPEC).hexdigest(), len(SPEC), b"other bytes"),
])
def test_r02_document_record_must_match_the_file(portal, bad):
    assert refusal(portal.publish_notice, notice(documents=(bad,)), PHRASES).reason is Reason.INVALID_INPUT


def test_r02_republishing_a_version_is_idempotent_and_never_changes_it(portal):
    first = portal.publish_notice(notice(), PHRASES)
    assert portal.publish_notice(notice(), PHRASES) == first
    changed = notice(title="آسفالت و لکه‌گیری")
    assert refusal(portal.publish_notice, changed, PHRASES).reason is Reason.INVALID_INPUT
    second = portal.publish_notice(replace(changed, version=2, documents=(doc(), doc(b"addendum", "add.pdf"))),
                                   PHRASES)
    assert second.version == 2
    assert portal.download("TND-1400-0042", "add.pdf") == b"addendum"
    assert portal.download("TND-1400-0042", "specs.pdf", version=1) == SPEC
    assert refusal(portal.publish_notice, notice(version=4), PHRASES).reason is Reason.INVALID_INPUT
    assert [n.title for n in portal.notices("TND-1400-0042")] == ["آسفالت معابر", "آسفالت و لکه‌گیری"]


def test_r02_notice_time_must_be_aware(portal):
    naive = notice(published_at=datetime(2021, 6, 22, 9, 0))
    assert refusal(portal.publish_notice, naive, PHRASES).reason is Reason.INVALID_INPUT
