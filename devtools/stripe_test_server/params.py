"""Stripe's form encoding, decoded and checked the way the real API checks it.

The SDK sends ``application/x-www-form-urlencoded`` bodies (and query strings for GET) with
nested keys: ``line_items[0][price_data][unit_amount]=1500``. :func:`decode` turns them into
nested dicts and lists; a :class:`Spec` tree then validates them and reports the first problem
with Stripe's wording and the bracketed parameter name (``line_items[0][quantity]``), so a
mistake in our code fails here exactly as it would against api.stripe.com.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .errors import ParamError

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


def decode(body: str) -> dict[str, Any]:
    """``a[b][0][c]=1&a[b][1][c]=2`` → ``{"a": {"b": [{"c": "1"}, {"c": "2"}]}}``.

    Leaf values stay strings (validation converts them). Empty strings are kept: Stripe uses them
    to unset a value (``metadata[key]=``).
    """
    root: dict[str, Any] = {}
    for raw_key, value in parse_qsl(body, keep_blank_values=True, strict_parsing=False):
        match = _KEY.match(raw_key)
        if match is None:
            raise ParamError(f"Invalid parameter name: {raw_key}", param=raw_key)
        path = [match.group(1), *_PART.findall(match.group(2))]
        node: dict[str, Any] = root
        for index, part in enumerate(path):
            last = index == len(path) - 1
            if part == "":  # a[]=x: append
                part = str(sum(1 for key in node if key.isdigit()))
            if last:
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise ParamError(f"Invalid parameter: {raw_key}", param=raw_key)
                node = child
    listified: dict[str, Any] = _listify(root)
    return listified


def _listify(node: Any) -> Any:
    """Dicts whose keys are exactly 0..n-1 become lists (Stripe's indexed arrays)."""
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        indexes = sorted(int(key) for key in converted)
        if indexes == list(range(len(indexes))):
            return [converted[str(i)] for i in indexes]
    return converted


def join(path: str, key: str | int) -> str:
    return f"{path}[{key}]" if path else str(key)


# --- Specs ------------------------------------------------------------------------------------


class Spec:
    """Validates one decoded value at ``path`` and returns it converted."""

    def check(self, value: Any, path: str) -> Any:
        raise NotImplementedError


@dataclass
class Str(Spec):
    max_length: int = 5000
    allow_empty: bool = True

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            raise ParamError(f"Invalid string: {_shape(value)}", param=path)
        if len(value) > self.max_length:
            raise ParamError(
                f"Invalid string: {value[:20]}...; must be at most {self.max_length} characters",
                param=path,
            )
        if not value and not self.allow_empty:
            raise ParamError(
                f"You passed an empty string for '{path}'. We assume empty values are an attempt to "
                "unset a parameter; however '" + path + "' cannot be unset. You should remove '" + path + "' "
                "from your request or supply a non-empty value.",
                param=path,
            )
        return value


@dataclass
class Int(Spec):
    minimum: int | None = None
    maximum: int | None = None

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
            raise ParamError(
                f"Invalid integer: {_shape(value)}", param=path, code="parameter_invalid_integer"
            )
        number = int(value)
        if self.minimum is not None and number < self.minimum:
            raise ParamError(
                f"This value must be greater than or equal to {self.minimum}.",
                param=path,
                code="parameter_invalid_integer",
            )
        if self.maximum is not None and number > self.maximum:
            raise ParamError(
                f"This value must be less than or equal to {self.maximum}.",
                param=path,
                code="parameter_invalid_integer",
            )
        return number


@dataclass
class Dec(Spec):
    """A decimal string such as a tax percentage (``21`` or ``5.5``)."""

    minimum: Decimal | None = None
    maximum: Decimal | None = None

    def check(self, value: Any, path: str) -> Any:
        try:
            number = Decimal(value) if isinstance(value, str) else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise ParamError(f"Invalid decimal: {_shape(value)}", param=path)
        if (self.minimum is not None and number < self.minimum) or (
            self.maximum is not None and number > self.maximum
        ):
            raise ParamError(f"Invalid {path}: must be between {self.minimum} and {self.maximum}", param=path)
        return number


class Bool(Spec):
    def check(self, value: Any, path: str) -> Any:
        if value == "true":
            return True
        if value == "false":
            return False
        raise ParamError(f"Invalid boolean: {_shape(value)}", param=path)


@dataclass
class Enum(Spec):
    choices: tuple[str, ...]

    def check(self, value: Any, path: str) -> Any:
        if value not in self.choices:
            options = ", ".join(self.choices[:-1]) + (", or " if len(self.choices) > 2 else " or ")
            options = options + self.choices[-1] if len(self.choices) > 1 else self.choices[0]
            raise ParamError(
                f"Invalid {path.split('[')[-1].rstrip(']')}: must be one of {options}", param=path
            )
        return value


@dataclass
class Url(Spec):
    def check(self, value: Any, path: str) -> Any:
        value = Str(max_length=5000, allow_empty=False).check(value, path)
        parts = urlsplit(value.replace("{CHECKOUT_SESSION_ID}", "x"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ParamError("Not a valid URL", param=path, code="url_invalid")
        return value


@dataclass
class Email(Spec):
    def check(self, value: Any, path: str) -> Any:
        value = Str(max_length=800, allow_empty=False).check(value, path)
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            raise ParamError(f"Invalid email address: {value}", param=path, code="email_invalid")
        return value


class Currency(Spec):
    def check(self, value: Any, path: str) -> Any:
        from .data import SUPPORTED_CURRENCIES

        if not isinstance(value, str) or value.lower() not in SUPPORTED_CURRENCIES:
            raise ParamError(
                f"Invalid currency: {_shape(value)}. Stripe currently supports these currencies: "
                + ", ".join(sorted(SUPPORTED_CURRENCIES)),
                param=path,
            )
        return value.lower()


class Metadata(Spec):
    """Up to 50 keys of at most 40 characters, values of at most 500 (Stripe's limits)."""

    def check(self, value: Any, path: str) -> Any:
        if value == "":
            return {}
        if not isinstance(value, dict):
            raise ParamError(f"Invalid object: {_shape(value)}", param=path)
        if len(value) > 50:
            raise ParamError("Invalid metadata: metadata can have at most 50 keys", param=path)
        checked: dict[str, str] = {}
        for key, item in value.items():
            if len(key) > 40:
                raise ParamError(
                    f"Invalid metadata: keys can be at most 40 characters long, {key!r} is {len(key)}",
                    param=join(path, key),
                )
            if not isinstance(item, str):
                raise ParamError(f"Invalid string: {_shape(item)}", param=join(path, key))
            if len(item) > 500:
                raise ParamError(
                    "Invalid metadata: values can be at most 500 characters long", param=join(path, key)
                )
            checked[key] = item
        return checked


@dataclass
class Arr(Spec):
    item: Spec
    max_items: int | None = None

    def check(self, value: Any, path: str) -> Any:
        if isinstance(value, dict) and not value:
            value = []
        if not isinstance(value, list):
            raise ParamError(f"Invalid array: {_shape(value)}", param=path)
        if self.max_items is not None and len(value) > self.max_items:
            raise ParamError(f"Invalid array: at most {self.max_items} items are allowed", param=path)
        return [self.item.check(item, join(path, index)) for index, item in enumerate(value)]


@dataclass
class Obj(Spec):
    fields: dict[str, Spec]
    required: Iterable[str] = ()
    # Extra cross-field checks, run after the fields are converted.
    rules: list[Callable[[dict[str, Any], str], None]] = field(default_factory=list)

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise ParamError(f"Invalid object: {_shape(value)}", param=path or None)
        for key in value:
            if key not in self.fields:
                raise ParamError(
                    f"Received unknown parameter: {join(path, key)}",
                    param=join(path, key),
                    code="parameter_unknown",
                )
        for key in self.required:
            if key not in value:
                raise ParamError(
                    f"Missing required param: {join(path, key)}.",
                    param=join(path, key),
                    code="parameter_missing",
                )
        checked = {key: self.fields[key].check(item, join(path, key)) for key, item in value.items()}
        for rule in self.rules:
            rule(checked, path)
        return checked


EXPAND = Arr(Str(max_length=500))


def request(fields: dict[str, Spec], required: Iterable[str] = (), **kwargs: Any) -> Obj:
    """The top-level spec of an endpoint: its fields plus ``expand``, which every endpoint takes."""
    return Obj({**fields, "expand": EXPAND}, required=required, **kwargs)


def _shape(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return str(value)
