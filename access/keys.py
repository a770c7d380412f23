"""API token keys: made once from the operating system's randomness, stored only as a SHA-256.

A key carries 256 random bits, so a plain SHA-256 is enough to store it: no salt or slow KDF is
needed, because nobody can search a space of 2**256 keys, whatever the speed of the hash (a
password needs a slow hash because people choose guessable ones). One unsalted hash also lets
authentication find the key with one lookup on a unique index (docs/decisions.md).
"""

import hashlib
import secrets

# Recognisable in a leak (secret scanners, logs) and in the admin.
KEY_PREFIX = "m247_"
# The part of a key the admin and the commands show: enough to tell tokens apart, useless to an attacker.
DISPLAY_PREFIX_LENGTH = 12


def key_new() -> str:
    """A new key: the prefix and 32 random bytes, URL-safe base64 (48 characters in all)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    """The stored form of a key: its SHA-256, in hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_display_prefix(key: str) -> str:
    return key[:DISPLAY_PREFIX_LENGTH]
