"""Strict readers for settings that come from the environment.

A value that is present but malformed is an error, never silently a default:
``DEBUG=yes please`` stops the process instead of quietly meaning ``False``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}

_MISSING = object()


class EnvError(ValueError):
    """A setting in the environment is missing or malformed."""


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    source = os.environ if environ is None else environ
    value = source.get(name)
    if value is None:
        return None
    return value.strip()


def env_str(name: str, default: str | object = _MISSING, *, environ: Mapping[str, str] | None = None) -> str:
    value = _raw(name, environ)
    if value is None or value == "":
        if default is _MISSING:
            raise EnvError(f"{name} must be set")
        return str(default)
    return value


def env_bool(
    name: str, default: bool | object = _MISSING, *, environ: Mapping[str, str] | None = None
) -> bool:
    value = _raw(name, environ)
    if value is None or value == "":
        if default is _MISSING:
            raise EnvError(f"{name} must be set to true or false")
        return bool(default)
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise EnvError(f"{name}={value!r} is not a boolean; use one of true/false, 1/0, yes/no, on/off")


def env_int(
    name: str,
    default: int | object = _MISSING,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    value = _raw(name, environ)
    if value is None or value == "":
        if default is _MISSING:
            raise EnvError(f"{name} must be set to an integer")
        assert isinstance(default, int)
        return default
    try:
        number = int(value)
    except ValueError:
        raise EnvError(f"{name}={value!r} is not an integer") from None
    if minimum is not None and number < minimum:
        raise EnvError(f"{name}={number} is below the minimum {minimum}")
    if maximum is not None and number > maximum:
        raise EnvError(f"{name}={number} is above the maximum {maximum}")
    return number


def env_list(
    name: str, default: list[str] | object = _MISSING, *, environ: Mapping[str, str] | None = None
) -> list[str]:
    """A comma-separated list; empty items are an error (``a,,b`` is a typo, not two items)."""
    value = _raw(name, environ)
    if value is None or value == "":
        if default is _MISSING:
            raise EnvError(f"{name} must be set to a comma-separated list")
        assert isinstance(default, list)
        return list(default)
    items = [item.strip() for item in value.split(",")]
    if any(item == "" for item in items):
        raise EnvError(f"{name}={value!r} has an empty item")
    return items


def env_url(
    name: str,
    default: str | object = _MISSING,
    *,
    schemes: tuple[str, ...],
    environ: Mapping[str, str] | None = None,
) -> str:
    value = env_str(name, default, environ=environ)
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        raise EnvError(f"{name}={value!r} must start with one of: {', '.join(s + '://' for s in schemes)}")
    if parts.scheme not in ("sqlite",) and not parts.hostname:
        raise EnvError(f"{name}={value!r} has no host")
    return value
