"""Prometheus metrics at /metrics (prometheus-client), behind a bearer token or an address allow-list.

What the database already records is computed at scrape time, exactly, whichever process did it:
bookings by status, gate commands by result with their latency histogram (``AccessEvent``), e-mails
pending and the age of the oldest. What leaves no row (a refused booking, an ANPR read that was a
repeat, a webhook delivery that was a duplicate or forged) is counted where it happens with one
``metric_count(...)`` call, as an atomic increment in the shared cache, so every web process and
the keypad listener add to the same counters. Those counters restart from zero if Redis loses its
data, which Prometheus reads as a counter reset.

Scrape-time reads go through ``apps.get_model``: this module observes the whole product read-only,
as the admin does, without importing the apps above ``core``.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Min, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from parkgate.core.net import client_ip, parse_networks

logger = logging.getLogger(__name__)

# Counters kept in the shared cache: name -> (help, label name, the label values that exist).
CACHE_COUNTERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "booking_refused": (
        "Booking submissions refused, by reason (nothing was booked).",
        "reason",
        ("full", "busy", "refused", "rate_limited"),
    ),
    "anpr_reads": (
        "Plate reads received from cameras, by what became of them.",
        "outcome",
        ("decided", "repeat", "ignored", "rejected"),
    ),
    "webhook_events": (
        "Stripe webhook deliveries, by outcome.",
        "outcome",
        ("handled", "duplicate", "ignored", "bad", "unknown_reference", "busy", "anomaly", "unconfigured"),
    ),
}
# Gate command latency buckets, in seconds.
GATE_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)


def _cache_key(name: str, label: str) -> str:
    return f"metrics:{name}:{label}"


def metric_count(name: str, label: str) -> None:
    """Add one to a shared counter (``metric_count("booking_refused", "full")``). Never raises."""
    if name not in CACHE_COUNTERS or label not in CACHE_COUNTERS[name][2]:
        logger.error("metric %s{%s} is not declared in CACHE_COUNTERS: not counted", name, label)
        return
    key = _cache_key(name, label)
    try:
        if not cache.add(key, 1, timeout=None):
            cache.incr(key)
    except Exception:  # a metric is never worth failing the request it describes
        logger.warning("metric %s{%s} not counted: the cache did not answer", name, label, exc_info=True)


class ParkgateCollector(Collector):
    def collect(self) -> Iterator[Any]:
        yield from self._cache_counters()
        yield from self._bookings()
        yield from self._gate_commands()
        yield from self._emails()

    def _cache_counters(self) -> Iterator[Any]:
        keys = [_cache_key(name, label) for name, spec in CACHE_COUNTERS.items() for label in spec[2]]
        values = cache.get_many(keys)
        for name, (help_text, label_name, labels) in CACHE_COUNTERS.items():
            family = CounterMetricFamily(f"parkgate_{name}", help_text, labels=[label_name])
            for label in labels:
                family.add_metric([label], float(values.get(_cache_key(name, label), 0)))
            yield family

    def _bookings(self) -> Iterator[Any]:
        booking = apps.get_model("booking", "Booking")
        family = CounterMetricFamily(
            "parkgate_bookings", "Bookings made, by their status now.", labels=["status"]
        )
        rows = booking.objects.values("status").annotate(n=Count("id")).order_by()
        counts = {row["status"]: row["n"] for row in rows}
        for status, _label in booking._meta.get_field("status").choices or ():
            family.add_metric([status], float(counts.get(status, 0)))
        yield family

    def _gate_commands(self) -> Iterator[Any]:
        event = apps.get_model("access", "AccessEvent")
        bucket_counts = {
            f"le_{i}": Count("id", filter=Q(duration_ms__lte=int(bound * 1000)))
            for i, bound in enumerate(GATE_LATENCY_BUCKETS)
        }
        rows = (
            event.objects.filter(command_id__isnull=False)
            .exclude(result="pending")
            .values("result")
            .annotate(total=Count("id"), seconds_ms=Sum("duration_ms"), **bucket_counts)
            .order_by("result")
        )
        histogram = HistogramMetricFamily(
            "parkgate_gate_command_seconds",
            "Time from sending a gate command to the gate's answer, by result.",
            labels=["result"],
        )
        for row in rows:
            values: dict[str, Any] = dict(row)
            buckets = [
                (f"{bound:g}", float(values[f"le_{i}"])) for i, bound in enumerate(GATE_LATENCY_BUCKETS)
            ]
            buckets.append(("+Inf", float(row["total"])))
            histogram.add_metric([row["result"]], buckets, (row["seconds_ms"] or 0) / 1000)
        yield histogram

    def _emails(self) -> Iterator[Any]:
        email = apps.get_model("core", "OutboundEmail")
        waiting = email.objects.filter(status__in=("queued", "retrying")).aggregate(
            n=Count("id"), oldest=Min("created_at")
        )
        pending = GaugeMetricFamily("parkgate_emails_pending", "E-mails written but not sent yet.")
        pending.add_metric([], float(waiting["n"]))
        yield pending
        age = GaugeMetricFamily(
            "parkgate_emails_oldest_pending_seconds",
            "How long the oldest unsent e-mail has waited (0: none).",
        )
        oldest = waiting["oldest"]
        age.add_metric([], max(0.0, (timezone.now() - oldest).total_seconds()) if oldest else 0.0)
        yield age
        failed = GaugeMetricFamily(
            "parkgate_emails_failed", "E-mails that failed for good (staff must look)."
        )
        failed.add_metric([], float(email.objects.filter(status="failed").count()))
        yield failed


REGISTRY = CollectorRegistry(auto_describe=False)
REGISTRY.register(ParkgateCollector())


def _authorised(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), token):
        return True
    allowed = parse_networks(settings.METRICS_ALLOWED_ADDRESSES)
    address = client_ip(request)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip.version == network.version and ip in network for network in allowed)


@require_GET
@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_TOKEN and not settings.METRICS_ALLOWED_ADDRESSES:
        return HttpResponse("metrics are off: set METRICS_TOKEN or METRICS_ALLOWED_ADDRESSES", status=404)
    if not _authorised(request):
        response = HttpResponse("a bearer token or an allowed address is needed", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="parkgate-metrics"'
        return response
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
