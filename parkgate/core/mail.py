"""E-mail: rendered in the recipient's language, stored, sent by a background task after commit.

``email_queue(...)`` renders ``<template>_subject.txt``, ``<template>.txt`` and ``<template>.html``
under the recipient's language, stores an OutboundEmail, and enqueues the send when the current
transaction commits (never inside it: a rolled-back booking sends nothing). A failed send is
retried with backoff (``email_retry_due`` / ``manage.py email_retry``) and, after the last attempt,
stays visibly FAILED for staff.
"""

from __future__ import annotations

import base64
import logging
import smtplib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.mime.base import MIMEBase
from email.utils import formataddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import models, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django_tasks import default_task_backend, task

from parkgate.core.models import OutboundEmail, OutboundEmailStatus

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Waits before attempts 2, 3, 4 and 5.
BACKOFF = [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2)]


@dataclass(frozen=True)
class Attachment:
    filename: str
    mimetype: str
    content: bytes
    content_id: str = ""  # set for an inline image referenced as cid:<content_id> in the HTML


def email_queue(
    *,
    to: Sequence[str],
    template: str,
    context: dict[str, Any],
    language: str,
    kind: str,
    organisation: Any | None = None,
    sender_name: str | None = None,
    reply_to: Sequence[str] = (),
    attachments: Sequence[Attachment] = (),
    obj: models.Model | None = None,
    send_after_commit: bool = True,
) -> OutboundEmail:
    """Render and store an e-mail now; send it after the surrounding transaction commits.

    ``send_after_commit=False``: the caller sends it itself once committed (``email_send``), as the
    booking notices do in the task that wrote it; one left QUEUED is picked up by ``email_retry_due``.
    """
    with translation.override(language):
        full_context = {"site_url": settings.SITE_URL, "language": language, **context}
        subject = " ".join(render_to_string(f"{template}_subject.txt", full_context).split())
        body_text = render_to_string(f"{template}.txt", full_context)
        body_html = render_to_string(f"{template}.html", full_context)
    from_email = settings.DEFAULT_FROM_EMAIL
    if sender_name:
        # The organisation's name as the sender name, our address as the sender (deliverability).
        from_email = formataddr((sender_name, _address_of(settings.DEFAULT_FROM_EMAIL)))
    email = OutboundEmail.objects.create(
        organisation=organisation,
        kind=kind,
        to=list(to),
        from_email=from_email,
        reply_to=list(reply_to),
        subject=subject[:300],
        body_text=body_text,
        body_html=body_html,
        attachments=[
            {
                "filename": a.filename,
                "mimetype": a.mimetype,
                "content_b64": base64.b64encode(a.content).decode("ascii"),
                "content_id": a.content_id,
            }
            for a in attachments
        ],
        language=language,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
    )
    if send_after_commit:
        email_pk = str(email.pk)
        transaction.on_commit(lambda: email_send_task.enqueue(email_pk))
    return email


def _address_of(value: str) -> str:
    from email.utils import parseaddr

    return parseaddr(value)[1] or value


def build_message(email: OutboundEmail) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        from_email=email.from_email,
        to=email.to,
        reply_to=email.reply_to or None,
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    has_inline = any(a.get("content_id") for a in email.attachments)
    if has_inline:
        message.mixed_subtype = "related"  # type: ignore[attr-defined]
    for item in email.attachments:
        content = base64.b64decode(item["content_b64"])
        if item.get("content_id"):
            maintype, subtype = item["mimetype"].split("/", 1)
            part = MIMEBase(maintype, subtype)
            part.set_payload(content)
            from email import encoders

            encoders.encode_base64(part)
            part.add_header("Content-ID", f"<{item['content_id']}>")
            part.add_header("Content-Disposition", "inline", filename=item["filename"])
            message.attach(part)
        else:
            message.attach(item["filename"], content, item["mimetype"])
    return message


_kept = threading.local()
FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"


def _deliver(message: EmailMultiAlternatives) -> None:
    """Send over this thread's open connection to the mail server, opened once and kept.

    One SMTP handshake (and TLS negotiation) per worker instead of one per e-mail. A server that
    dropped the idle connection is reconnected to once. Keyed by the backend's settings, so a
    changed configuration gets a new connection.
    """
    if settings.EMAIL_BACKEND == FILE_BACKEND:
        message.send(fail_silently=False)  # one file per connection: one per e-mail, as before
        return
    key = (settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_HOST_USER)
    for attempt in (1, 2):
        if getattr(_kept, "key", None) != key or _kept.connection is None:
            _close_kept()
            connection = get_connection(fail_silently=False)
            connection.open()
            _kept.key, _kept.connection = key, connection
        message.connection = _kept.connection
        try:
            message.send(fail_silently=False)
            return
        except smtplib.SMTPServerDisconnected:
            _close_kept()
            if attempt == 2:
                raise
        except Exception:
            _close_kept()  # a connection in an unknown state is not reused
            raise


def _close_kept() -> None:
    connection = getattr(_kept, "connection", None)
    _kept.connection = None
    if connection is not None:
        try:
            connection.close()
        except Exception:  # closing a connection the server already dropped
            logger.debug("closing the mail connection failed", exc_info=True)


def email_send(*, email_id: str, now: datetime | None = None) -> OutboundEmail:
    """Try to send one stored e-mail once; record the outcome and schedule a retry on failure."""
    now = now or timezone.now()
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().get(pk=email_id)
        if email.status in (OutboundEmailStatus.SENT, OutboundEmailStatus.FAILED):
            return email
        email.attempts += 1
        try:
            _deliver(build_message(email))
        except Exception as error:  # any transport failure is recorded, retried, then shown to staff
            email.last_error = f"{type(error).__name__}: {error}"[:2000]
            if email.attempts >= MAX_ATTEMPTS:
                email.status = OutboundEmailStatus.FAILED
                email.next_attempt_at = None
                logger.error("e-mail %s failed for good: %s", email.pk, email.last_error)
            else:
                email.status = OutboundEmailStatus.RETRYING
                email.next_attempt_at = now + BACKOFF[email.attempts - 1]
                logger.warning(
                    "e-mail %s failed (attempt %d): %s", email.pk, email.attempts, email.last_error
                )
        else:
            email.status = OutboundEmailStatus.SENT
            email.sent_at = now
            email.next_attempt_at = None
            email.last_error = ""
        email.save(update_fields=["attempts", "status", "sent_at", "next_attempt_at", "last_error"])
    if email.status == OutboundEmailStatus.RETRYING and default_task_backend.supports_defer:
        email_send_task.using(run_after=email.next_attempt_at).enqueue(str(email.pk))
    return email


@task()
def email_send_task(email_id: str) -> None:
    email_send(email_id=email_id)


def email_retry_due(*, now: datetime | None = None) -> int:
    """Send every e-mail whose retry is due (for backends that cannot defer tasks: cron this)."""
    now = now or timezone.now()
    due = list(
        OutboundEmail.objects.filter(
            Q(status=OutboundEmailStatus.RETRYING, next_attempt_at__lte=now)
            # Queued but never picked up (a worker died between commit and send).
            | Q(status=OutboundEmailStatus.QUEUED, created_at__lte=now - timedelta(minutes=5))
        ).values_list("pk", flat=True)
    )
    for pk in due:
        email_send(email_id=str(pk), now=now)
    return len(due)
