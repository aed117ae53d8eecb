"""The members' page: waiting lists for booked days, and the devices a member is signed in on."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from parkgate.parking.models import AccessPolicy, Parker


class WaitingStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    PROMOTED = "promoted", _("Got a spot")
    LEFT = "left", _("Left the list")
    LAPSED = "lapsed", _("Day passed")


class WaitingListEntry(models.Model):
    """A member waiting for a spot of a booking-required policy on one local day, or a time of it.

    The first in line (oldest ``created_at``, then ``id``) whose time fits gets the next spot freed
    that day; the promotion books it through the capacity engine under the lot lock (see services).
    """

    policy = models.ForeignKey(AccessPolicy, on_delete=models.CASCADE, related_name="waiting_list")
    parker = models.ForeignKey(Parker, on_delete=models.CASCADE, related_name="waiting_list")
    day = models.DateField(_("day"))
    # The time range waited for, inside the day's timetable; both empty: the whole day.
    start = models.DateTimeField(_("from"), null=True, blank=True)
    end = models.DateTimeField(_("to"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=WaitingStatus.choices, default=WaitingStatus.WAITING
    )
    created_at = models.DateTimeField()
    # The member's language for the e-mail that tells them they got a spot.
    language = models.CharField(max_length=8, default="en")
    promoted_at = models.DateTimeField(null=True, blank=True)
    # The reservations the promotion made (one group: every span of the day).
    reservation_group = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["policy", "day", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "parker", "day"],
                condition=models.Q(status="waiting"),
                name="waiting_once_per_day",
            ),
            models.CheckConstraint(
                condition=models.Q(start__isnull=True, end__isnull=True)
                | models.Q(start__isnull=False, end__isnull=False, end__gt=models.F("start")),
                name="waiting_range_whole_or_ordered",
            ),
        ]
        indexes = [models.Index(fields=["policy", "day", "status"], name="waiting_policy_day")]

    def __str__(self) -> str:
        return f"{self.parker} {self.day} ({self.status})"

    @property
    def span(self) -> tuple[datetime, datetime] | None:
        """The time range waited for, or None for the whole day."""
        if self.start is None or self.end is None:
            return None
        return (self.start, self.end)


class SignedInDevice(models.Model):
    """A session a user signed in with, so they can sign out the others from the members' page."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=64, unique=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    remembered = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.label}"

    @property
    def label(self) -> str:
        """The browser and system as a person names them ("Chrome on Android"), from the user agent."""
        agent = self.user_agent
        browser = next(
            (name for token, name in _BROWSERS if token in agent),
            "",
        )
        system = next((name for token, name in _SYSTEMS if token in agent), "")
        if browser and system:
            return f"{browser} · {system}"
        return browser or system or agent[:40]


# Checked in order: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = [
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
]
_SYSTEMS = [
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
]
