"""Webhook signatures: `X-Mesa-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`.

hex = HMAC-SHA256(secret, f"{t}." + raw body). Several `v1` values and several
secrets allow the processor and us to rotate secrets without downtime.
"""

import hashlib
import hmac
import re
import time

from .exceptions import SignatureError

SIGNATURE_HEADER = "X-Mesa-Signature"
# The header as the processor sends it (what the OpenAPI schema documents); the parser
# below also takes several v1= values and ignores unknown schemes, for rotations.
SIGNATURE_PATTERN = r"^t=[0-9]{1,12},v1=[0-9a-f]{64}$"
# Bounds the work an unauthenticated caller can ask for (one HMAC per secret and value).
MAX_HEADER_LENGTH = 2048
_TIMESTAMP = re.compile(r"\A[0-9]{1,12}\Z")


def signature_compute(*, secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={signature_compute(secret=secret, timestamp=timestamp, body=body)}"


def _parse(header: str) -> tuple[int, list[str]]:
    if len(header) > MAX_HEADER_LENGTH:
        raise SignatureError("The signature header is too long.", code="signature_malformed")
    timestamp = None
    candidates = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep or not value:
            raise SignatureError("The signature header is malformed.", code="signature_malformed")
        if key == "t":
            if timestamp is not None or not _TIMESTAMP.match(value):
                raise SignatureError("The signature timestamp is malformed.", code="signature_malformed")
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value.lower())
        # Unknown schemes are ignored so the processor can add new ones.
    if timestamp is None or not candidates:
        raise SignatureError("The signature header needs t= and at least one v1=.", code="signature_malformed")
    return timestamp, candidates


def signature_verify(*, header: str | None, body: bytes, secrets: list[str], tolerance: int, now: float) -> None:
    if not header:
        raise SignatureError(f"The {SIGNATURE_HEADER} header is missing.", code="signature_missing")
    timestamp, candidates = _parse(header)
    if abs(now - timestamp) > tolerance:
        raise SignatureError(
            f"The signature timestamp is more than {tolerance} seconds from now.", code="signature_expired"
        )
    # Compare every pair, in constant time each, without stopping early.
    matched = False
    for secret in secrets:
        expected = signature_compute(secret=secret, timestamp=timestamp, body=body)
        for candidate in candidates:
            # Bytes, because compare_digest refuses non-ASCII str (a header can carry any byte).
            matched |= hmac.compare_digest(expected.encode(), candidate.encode("utf-8", "replace"))
    if not matched:
        raise SignatureError("No signature matches a configured secret.", code="signature_mismatch")
