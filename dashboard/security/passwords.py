"""Password hashes for built-in users: salted scrypt, compared in constant time.

A stored hash reads ``scrypt$<n>$<r>$<p>$<salt>$<hash>`` (salt and hash in base64), so the
cost can be raised later without invalidating existing hashes. Each hash takes 32 MiB, so a
process computes at most MAX_CONCURRENT_HASHES at once; one more is refused at once with
HashingBusy rather than queued, so a burst of logins cannot grow memory.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
SALT_BYTES, HASH_BYTES = 16, 32
MIN_LENGTH = 12
MAX_CONCURRENT_HASHES = 2
HASH_SLOTS = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)


class PasswordError(ValueError):
    """A password that may not be used."""


class HashingBusy(RuntimeError):
    """Every hash slot of this process is taken; try again in a moment."""


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    if not HASH_SLOTS.acquire(blocking=False):
        raise HashingBusy(f"{MAX_CONCURRENT_HASHES} password hashes are already being computed")
    try:
        return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r, dklen=HASH_BYTES)
    finally:
        HASH_SLOTS.release()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str) -> str:
    """Hash ``password`` with a fresh random salt; refuse passwords shorter than MIN_LENGTH."""
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"a password needs at least {MIN_LENGTH} characters")
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored``; with no stored hash, spend the same time and fail."""
    if stored is None:
        _scrypt(password, b"\0" * SALT_BYTES, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return scheme == "scrypt" and hmac.compare_digest(actual, expected)
