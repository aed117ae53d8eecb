"""Site agents, their pairing, the offline rules of each gate, and the events they uploaded."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from parkgate.access.models import AccessEvent
from parkgate.parking.models import Gate, Lot


class SiteAgent(models.Model):
    """A ``parkgate-site`` box at one lot.

    Pairing: the owner creates the agent and is shown a one-time code once (only its SHA-256 is
    kept, valid ``SITE_PAIRING_MINUTES``); the box trades it for its own API token (only its
    SHA-256 is kept) and the server's public key. ``salt`` salts the hashes of keypad codes,
    remote-control tokens and device keys in this agent's snapshots.
    """

    lot = models.ForeignKey(Lot, on_delete=models.CASCADE, related_name="site_agents")
    name = models.CharField(_("name"), max_length=120)
    pairing_code_hash = models.CharField(max_length=64, blank=True, editable=False)
    pairing_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    token_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    paired_at = models.DateTimeField(null=True, blank=True)
    salt = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Health, as the agent last reported it (every sync call).
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)  # last snapshot the agent verified
    snapshot_version = models.PositiveIntegerField(default=0)  # last version served
    snapshot_built_at = models.DateTimeField(null=True, blank=True)
    snapshot_hash = models.CharField(max_length=64, blank=True)
    snapshot_facts_version = models.BigIntegerField(default=-1)  # LotFactsVersion read before building
    agent_version = models.PositiveIntegerField(default=0)  # version the agent holds
    agent_snapshot_built_at = models.DateTimeField(null=True, blank=True)
    events_waiting = models.PositiveIntegerField(default=0)
    events_rejected = models.PositiveIntegerField(default=0)  # refused by the server, kept at the site
    last_problem = models.CharField(max_length=300, blank=True)
    last_problem_at = models.DateTimeField(null=True, blank=True)
    uploaded_through = models.PositiveBigIntegerField(default=0)  # highest site sequence stored

    class Meta:
        ordering = ["lot", "name"]
        verbose_name = _("site agent")

    def __str__(self) -> str:
        return self.name


class OfflineEntry(models.TextChoices):
    MEMBERS = "members", _("Members only")
    CLOSED = "closed", _("Nobody (the desk opens)")


class OfflineExit(models.TextChoices):
    OPEN = "open", _("Always open, so nobody is locked in")
    MEMBERS = "members", _("Members only")


class GateOfflineRule(models.Model):
    """What a site agent does at one gate once its snapshot is older than ``keep_deciding_hours``."""

    gate = models.OneToOneField(Gate, on_delete=models.CASCADE, related_name="offline_rule")
    keep_deciding_hours = models.PositiveSmallIntegerField(
        _("keep deciding on the last snapshot for (hours)"),
        default=12,
        validators=[MinValueValidator(0), MaxValueValidator(168)],
    )
    entry = models.CharField(
        _("then, cars coming in"), max_length=10, choices=OfflineEntry.choices, default=OfflineEntry.MEMBERS
    )
    exit = models.CharField(
        _("then, cars going out"), max_length=10, choices=OfflineExit.choices, default=OfflineExit.OPEN
    )
    language = models.CharField(
        _("language of what the gate's keypad and display say"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )

    def __str__(self) -> str:
        return f"{self.gate_id}: {self.keep_deciding_hours} h, {self.entry}/{self.exit}"


class SiteUpload(models.Model):
    """One access event a site agent recorded, stored once: (agent, site sequence) is unique."""

    agent = models.ForeignKey(SiteAgent, on_delete=models.CASCADE, related_name="uploads")
    seq = models.PositiveBigIntegerField()
    event = models.OneToOneField(AccessEvent, on_delete=models.CASCADE, related_name="site_upload")
    received_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agent", "seq"], name="siteupload_agent_seq")]

    def __str__(self) -> str:
        return f"{self.agent_id}#{self.seq}"


class LotFactsVersion(models.Model):
    """How many times what a lot's snapshot holds has changed: the sync call's change detection.

    Database triggers (migration 0002) bump ``version`` when a row the snapshot is built from is
    written, whatever wrote it (a service, a queryset ``update()``, ``bulk_create``, the admin, a
    cascade): reservations, gates, cameras, keypads, offline rules, member policies, their members,
    timetables and shared days, the plates of a lot's parkers, the lot itself. Only lots with a
    site agent have a row, so other lots' writes bump nothing. On PostgreSQL the bump runs at
    commit (a deferred constraint trigger), so it holds the row's lock only while committing and
    never while the writer waits for other locks (no deadlock with the capacity lock on the lot).
    A waiting agent then costs one primary-key read per check.
    """

    lot = models.OneToOneField(Lot, on_delete=models.CASCADE, primary_key=True, related_name="+")
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.lot_id}: {self.version}"


DEFAULT_OFFLINE_HOURS = 12
