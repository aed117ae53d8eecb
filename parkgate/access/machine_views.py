"""Endpoints for machines: number-plate cameras and keypads (see docs/api/machine-endpoints.yaml).

No session, no CSRF: each device authenticates with its own key (parkgate/access/devices.py).
Bad input is a 4xx with a JSON ``error`` and never opens a gate.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from parkgate.access.anpr import ParseError, load_json, parse_read
from parkgate.access.devices import DeviceAuthError, authenticate_device
from parkgate.access.models import Camera, Keypad
from parkgate.access.ways import KeypadInputError, anpr_read_handle, keypad_code_enter
from parkgate.core.metrics import metric_count

KEYPAD_MAX_BODY_BYTES = 4096


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _too_big(request: HttpRequest, limit: int) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > limit
    except ValueError:
        return True


def _multipart_parts(request: HttpRequest, limit: int) -> dict[str, tuple[bytes, str]]:
    parts: dict[str, tuple[bytes, str]] = {}
    for name in request.POST:
        parts[name] = (str(request.POST[name]).encode(), "text/plain")
    for name in request.FILES:
        upload = request.FILES.get(name)
        if not isinstance(upload, UploadedFile):
            continue
        content_type = upload.content_type or ""
        if content_type.startswith("image/"):
            continue  # pictures are not kept; the read is what we act on
        parts[name] = (upload.read(limit), content_type)
    return parts


@csrf_exempt
@require_POST
def anpr_read(request: HttpRequest, public_id: str) -> JsonResponse:
    limit = settings.ANPR_MAX_BODY_BYTES
    if _too_big(request, limit):
        return _error(413, f"body larger than {limit} bytes")
    try:
        camera = authenticate_device(request, Camera, public_id)
    except DeviceAuthError as error:
        return _error(error.status, error.message)
    content_type = request.content_type or ""
    try:
        if content_type.startswith("multipart/"):
            read = parse_read(
                camera.format, content_type=content_type, body=b"", parts=_multipart_parts(request, limit)
            )
        else:
            read = parse_read(camera.format, content_type=content_type, body=request.body, parts=None)
    except (ParseError, MultiPartParserError) as error:
        metric_count("anpr_reads", "rejected")
        return _error(400, f"malformed plate read: {error}")
    except RequestDataTooBig:
        return _error(413, f"body larger than {limit} bytes")
    outcome = anpr_read_handle(camera=camera, read=read)
    metric_count("anpr_reads", outcome.status)
    return JsonResponse(outcome.as_json())


def _keypad_code(request: HttpRequest) -> Any:
    if (request.content_type or "").endswith("json"):
        try:
            body = load_json(request.body)
        except (ValueError, UnicodeDecodeError) as error:
            nested = "nested" in str(error)
            raise KeypadInputError(f"invalid JSON: {error}" if nested else "invalid JSON") from None
        if not isinstance(body, dict) or not isinstance(body.get("code", ""), str):
            raise KeypadInputError('send {"code": "123456"}')
        return body.get("code", "")
    return request.POST.get("code", "")


@csrf_exempt
@require_POST
def keypad_code(request: HttpRequest, public_id: str) -> JsonResponse:
    if _too_big(request, KEYPAD_MAX_BODY_BYTES):
        return _error(413, f"body larger than {KEYPAD_MAX_BODY_BYTES} bytes")
    try:
        keypad = authenticate_device(request, Keypad, public_id)
    except DeviceAuthError as error:
        return _error(error.status, error.message)
    try:
        outcome = keypad_code_enter(keypad=keypad, code=_keypad_code(request))
    except KeypadInputError as error:
        return _error(400, str(error))
    if outcome.status == "locked_out":
        response = JsonResponse(outcome.as_json(), status=429)
        response["Retry-After"] = str(outcome.extra["retry_after"])
        return response
    return JsonResponse(outcome.as_json())
