"""Signed snapshots: Ed25519 over the exact bytes of the payload. Pure (stdlib + cryptography).

An envelope is ``{"format": 1, "key_id": ..., "payload": <base64 of the JSON bytes>,
"signature": <base64 of Ed25519(payload bytes)>}``. The signature covers the bytes, not a
re-serialisation, so nothing depends on how JSON is written. The server signs with its private key
(``SITE_SIGNING_KEY``); an agent verifies with the public key it received at pairing and refuses
anything else: no signature, another key, a changed byte.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ENVELOPE_FORMAT = 1


class SnapshotRefused(ValueError):
    """The snapshot is unsigned, signed by another key, tampered with or malformed."""


def private_key_from_text(text: str) -> Ed25519PrivateKey:
    """A private key from the base64 of its 32 raw bytes."""
    raw = base64.b64decode(text.strip(), validate=True)
    return Ed25519PrivateKey.from_private_bytes(raw)


def new_private_key_text() -> str:
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    raw = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return base64.b64encode(raw).decode()


def public_key_text(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def key_id(public_text: str) -> str:
    """A short name of a public key (its SHA-256, 16 hex digits), to say which key signed."""
    return hashlib.sha256(base64.b64decode(public_text)).hexdigest()[:16]


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def sign(payload_bytes: bytes, key: Ed25519PrivateKey) -> dict[str, Any]:
    return {
        "format": ENVELOPE_FORMAT,
        "key_id": key_id(public_key_text(key)),
        "payload": base64.b64encode(payload_bytes).decode(),
        "signature": base64.b64encode(key.sign(payload_bytes)).decode(),
    }


def verify(envelope: Any, public_text: str) -> bytes:
    """The payload bytes of a correctly signed envelope, or SnapshotRefused saying why."""
    if not isinstance(envelope, dict) or envelope.get("format") != ENVELOPE_FORMAT:
        raise SnapshotRefused("not a signed snapshot envelope")
    signature, payload = envelope.get("signature"), envelope.get("payload")
    if not isinstance(signature, str) or not signature:
        raise SnapshotRefused("unsigned snapshot")
    if not isinstance(payload, str):
        raise SnapshotRefused("snapshot without payload")
    try:
        payload_bytes = base64.b64decode(payload, validate=True)
        signature_bytes = base64.b64decode(signature, validate=True)
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_text, validate=True))
    except ValueError as error:
        raise SnapshotRefused(f"malformed snapshot: {error}") from None
    try:
        public.verify(signature_bytes, payload_bytes)
    except InvalidSignature:
        raise SnapshotRefused("bad signature: the snapshot was changed or signed by another key") from None
    return payload_bytes


def salted_hash(salt: str, secret: str) -> str:
    """HMAC-SHA256 of a secret (keypad code, remote-control token, device key) with the lot's salt."""
    import hmac

    return hmac.new(salt.encode(), secret.encode(), hashlib.sha256).hexdigest()
