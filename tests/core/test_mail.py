from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from parkgate.core.mail import MAX_ATTEMPTS, Attachment, email_queue, email_retry_due, email_send
from parkgate.core.models import OutboundEmail, OutboundEmailStatus

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


class BrokenBackend(BaseEmailBackend):
    def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
        raise ConnectionRefusedError("smtp down")


@pytest.fixture(autouse=True)
def _test_templates(settings):  # type: ignore[no-untyped-def]
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [TEMPLATES_DIR]},
    ]


def _queue(**extra):  # type: ignore[no-untyped-def]
    return email_queue(
        to=["visitor@example.com"],
        template="tests/hello",
        context={"name": "Zoë"},
        language=extra.pop("language", "en"),
        kind="test.hello",
        **extra,
    )


@pytest.mark.django_db
def test_nothing_is_sent_before_the_transaction_commits(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        email = _queue()
    assert mail.outbox == []
    assert email.status == OutboundEmailStatus.QUEUED
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_a_committed_email_is_sent_once_with_its_parts(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        email = _queue(
            sender_name="Acme Consulting",
            reply_to=["office@acme.example"],
            attachments=[
                Attachment("qr.png", "image/png", b"\x89PNGfake", content_id="qr"),
                Attachment("visit.ics", "text/calendar", b"BEGIN:VCALENDAR"),
            ],
        )
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.subject == "January Zoë"
    assert sent.body == "Hello Zoë (en)\n"
    assert sent.from_email == "Acme Consulting <no-reply@parkgate.localhost>"
    assert sent.reply_to == ["office@acme.example"]
    assert sent.alternatives[0][1] == "text/html"
    message = sent.message()
    inline = [p for p in message.walk() if p.get("Content-ID") == "<qr>"]
    assert len(inline) == 1 and base64.b64decode(inline[0].get_payload()) == b"\x89PNGfake"
    files = [a for a in sent.attachments if isinstance(a, tuple)]
    assert [(a[0], a[1], a[2]) for a in files] == [("visit.ics", "BEGIN:VCALENDAR", "text/calendar")]
    email.refresh_from_db()
    assert email.status == OutboundEmailStatus.SENT and email.attempts == 1


@pytest.mark.django_db
def test_the_email_is_rendered_in_the_recipients_language() -> None:
    email = _queue(language="fr")
    assert email.subject == "janvier Zoë"
    assert email.body_text == "Hello Zoë (fr)\n"


@pytest.mark.django_db
def test_a_failure_is_retried_with_backoff_then_marked_failed(settings, pinned_now) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "tests.core.test_mail.BrokenBackend"
    email = _queue()
    now = pinned_now
    email_send(email_id=str(email.pk), now=now)
    email.refresh_from_db()
    assert email.status == OutboundEmailStatus.RETRYING
    assert email.attempts == 1
    assert email.next_attempt_at == now + timedelta(minutes=1)
    assert email.last_error == "ConnectionRefusedError: smtp down"
    assert email_retry_due(now=now) == 0  # not due yet
    for attempt in range(2, MAX_ATTEMPTS + 1):
        now = email.next_attempt_at
        assert email_retry_due(now=now) == 1
        email.refresh_from_db()
        assert email.attempts == attempt
    assert email.status == OutboundEmailStatus.FAILED
    assert email.next_attempt_at is None
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_retry_after_the_server_recovers_sends_and_a_sent_email_is_never_sent_again(settings) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "tests.core.test_mail.BrokenBackend"
    email = _queue()
    email_send(email_id=str(email.pk))
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    email_send(email_id=str(email.pk))
    email_send(email_id=str(email.pk))
    email.refresh_from_db()
    assert email.status == OutboundEmailStatus.SENT
    assert email.attempts == 2
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_dev_mail_viewer_exists_only_in_debug(client, settings) -> None:  # type: ignore[no-untyped-def]
    email = _queue()
    settings.DEBUG = False
    assert client.get("/dev/mail/").status_code == 404
    assert client.get(f"/dev/mail/{email.pk}/html").status_code == 404
    settings.DEBUG = True
    listing = client.get("/dev/mail/")
    assert listing.status_code == 200
    assert "January Zoë" in listing.content.decode()
    html = client.get(f"/dev/mail/{email.pk}/html")
    assert html["Content-Security-Policy"].startswith("default-src 'none'")
    assert "data:image/png;base64," not in html.content.decode()  # no attachment given here
    assert OutboundEmail.objects.count() == 1


class CountingBackend(BaseEmailBackend):
    """Records how often a connection is opened; the first send after ``drop_next`` finds it closed."""

    opened = 0
    sent: list[str] = []
    drop_next = False

    def open(self):  # type: ignore[no-untyped-def]
        CountingBackend.opened += 1
        return True

    def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
        import smtplib

        if CountingBackend.drop_next:
            CountingBackend.drop_next = False
            raise smtplib.SMTPServerDisconnected("idle connection closed by the server")
        CountingBackend.sent.extend(m.to[0] for m in email_messages)
        return len(email_messages)


@pytest.mark.django_db
def test_emails_go_out_over_one_kept_connection_reopened_when_the_server_dropped_it(settings) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "tests.core.test_mail.CountingBackend"
    CountingBackend.opened, CountingBackend.sent, CountingBackend.drop_next = 0, [], False
    emails = [_queue(send_after_commit=False) for _ in range(3)]
    for email in emails[:2]:
        assert email_send(email_id=str(email.pk)).status == OutboundEmailStatus.SENT
    assert CountingBackend.opened == 1  # one handshake for both
    CountingBackend.drop_next = True  # the server closed the idle connection meanwhile
    assert email_send(email_id=str(emails[2].pk)).status == OutboundEmailStatus.SENT
    assert CountingBackend.opened == 2
    assert CountingBackend.sent == ["visitor@example.com"] * 3  # each once
    assert OutboundEmail.objects.filter(status=OutboundEmailStatus.SENT, attempts=1).count() == 3


@pytest.mark.django_db
def test_an_email_queued_for_its_writer_to_send_is_not_enqueued_and_retry_finds_it(  # type: ignore[no-untyped-def]
    django_capture_on_commit_callbacks, pinned_now
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _queue(send_after_commit=False)
    assert callbacks == [] and mail.outbox == []
    # The writer stopped before sending: the mailer's sweep sends it once it is 5 minutes old.
    assert email_retry_due(now=pinned_now) == 0
    assert email_retry_due(now=pinned_now + timedelta(minutes=6)) == 1
    assert [m.to for m in mail.outbox] == [["visitor@example.com"]]


@pytest.mark.django_db
def test_the_file_backend_is_not_kept_open_and_writes_every_email(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from parkgate.core import mail as core_mail

    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    for _ in range(2):
        email = _queue(send_after_commit=False)
        assert email_send(email_id=str(email.pk)).status == OutboundEmailStatus.SENT
    assert getattr(core_mail._kept, "key", (None,))[0] != settings.EMAIL_BACKEND
    written = "".join(path.read_text() for path in tmp_path.iterdir())
    assert written.count("To: visitor@example.com") == 2
