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
    snapshot_changes_mark = models.TextField(blank=True)  # read before building: snapshot.changes_mark
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


class LotChange(models.Model):
    """A write to what a lot's snapshot holds: the sync call's change detection.

    Database triggers (migration 0002) add a row when a row the snapshot is built from is
    inserted, updated or deleted, whatever wrote it (a service, a queryset ``update()``,
    ``bulk_create``, the admin, a cascade): reservations, gates, cameras, keypads, offline rules,
    member policies, their members, timetables and shared days, the plates of a lot's parkers, the
    lot itself; only for lots with an active site agent. Rows are only ever inserted (one per
    writing transaction and lot on PostgreSQL: ``xid`` is the writer's transaction id), so writers
    never wait on each other for it: a counter row, updated by every writer, deadlocked with the
    capacity lock on the lot (tests/sites/test_change_detection_concurrency.py). See
    ``snapshot.changes_mark`` for how a sync check reads it; rows older than a day are deleted.
    """

    id = models.BigAutoField(primary_key=True)
    lot_id = models.IntegerField()
    xid = models.BigIntegerField(null=True)  # PostgreSQL: the writer's transaction id
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="sites_lotchange_created")]
        constraints = [models.UniqueConstraint(fields=["lot_id", "xid"], name="sites_lotchange_once_per_tx")]

    def __str__(self) -> str:
        return f"{self.lot_id}@{self.xid or self.pk}"


DEFAULT_OFFLINE_HOURS = 12
