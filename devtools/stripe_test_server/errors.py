"""Stripe-shaped errors: ``{"error": {"type", "message", "param", "code"}}`` with Stripe's statuses."""

from __future__ import annotations

from typing import Any


class StripeError(Exception):
    """An error answered to the client; ``status`` and ``body()`` follow api.stripe.com."""

    status = 400
    type = "invalid_request_error"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.param is not None:
            error["param"] = self.param
        if self.code is not None:
            error["code"] = self.code
        return {"error": error}


class InvalidRequest(StripeError):
    """A request that was understood but cannot be carried out (saved for idempotent replay)."""


class ParamError(InvalidRequest):
    """A parameter failed validation before anything ran (never saved for idempotent replay)."""


class NotFound(InvalidRequest):
    status = 404

    def __init__(self, kind: str, object_id: str, *, param: str = "id") -> None:
        super().__init__(f"No such {kind}: '{object_id}'", param=param, code="resource_missing")


class Unauthorized(StripeError):
    status = 401


class Forbidden(StripeError):
    status = 403


class IdempotencyMismatch(StripeError):
    type = "idempotency_error"

    def __init__(self, key: str) -> None:
        super().__init__(
            "Keys for idempotent requests can only be used with the same parameters they were first "
            f"used with. Try using a key other than '{key}' if you meant to execute a different request."
        )
