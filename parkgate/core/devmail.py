"""The development mail viewer (/dev/mail/): every e-mail the app sent, rendered. DEBUG only."""

from __future__ import annotations

import base64

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.clickjacking import xframe_options_sameorigin

from parkgate.core.debug import debug_only
from parkgate.core.models import OutboundEmail


@debug_only
def mail_list(request: HttpRequest) -> HttpResponse:
    emails = OutboundEmail.objects.all()[:200]
    return render(request, "core/devmail/list.html", {"emails": emails})


@debug_only
def mail_detail(request: HttpRequest, pk: int) -> HttpResponse:
    email = get_object_or_404(OutboundEmail, pk=pk)
    return render(request, "core/devmail/detail.html", {"email": email})


@debug_only
@xframe_options_sameorigin
def mail_html(request: HttpRequest, pk: int) -> HttpResponse:
    email = get_object_or_404(OutboundEmail, pk=pk)
    html = email.body_html
    for item in email.attachments:
        if item.get("content_id"):
            data_uri = f"data:{item['mimetype']};base64,{item['content_b64']}"
            html = html.replace(f"cid:{item['content_id']}", data_uri)
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    # The message is shown as it would be in a mail client: no script runs.
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src data: https: http:; style-src 'unsafe-inline'"
    )
    return response


@debug_only
def mail_attachment(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    email = get_object_or_404(OutboundEmail, pk=pk)
    try:
        item = email.attachments[index]
    except IndexError:
        raise Http404 from None
    response = HttpResponse(base64.b64decode(item["content_b64"]), content_type=item["mimetype"])
    response["Content-Disposition"] = f'attachment; filename="{item["filename"]}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
