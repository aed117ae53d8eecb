"""Payment views. The webhook is public (Stripe calls it) and authenticated by its signature."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from parkgate.payments.webhooks import BadWebhook, UnknownReference, webhook_receive

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        outcome = webhook_receive(payload=request.body, signature=request.headers.get("Stripe-Signature", ""))
    except BadWebhook as error:
        logger.warning("refused a Stripe webhook: %s", error)
        return HttpResponse("bad signature or payload", status=400, content_type="text/plain")
    except UnknownReference as error:
        # Not stored: Stripe retries, by when our own transaction will have committed.
        logger.info("Stripe webhook for an unknown reference, asking for a retry: %s", error)
        return HttpResponse("unknown reference, retry later", status=404, content_type="text/plain")
    return HttpResponse(outcome.value, content_type="text/plain")
