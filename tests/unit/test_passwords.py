"""Password hashes: salted, slow, verified in constant time."""

import pytest

from dashboard.security import passwords
from dashboard.security.passwords import PasswordError, hash_password, verify_password

PASSWORD = "correct horse battery staple"


def test_hash_verifies_the_right_password_only():
    stored = hash_password(PASSWORD)
    assert verify_password(PASSWORD, stored)
    assert not verify_password(PASSWORD + "!", stored)
    assert not verify_password("", stored)


def test_hashes_are_salted_and_never_hold_the_password():
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second
    assert PASSWORD not in first
    assert verify_password(PASSWORD, first) and verify_password(PASSWORD, second)


def test_hashes_are_slow_scrypt():
    scheme, n, r, p, salt, digest = hash_password(PASSWORD).split("$")
    assert scheme == "scrypt" and int(n) >= 2**15 and int(r) >= 8 and int(p) >= 1
    assert len(salt) >= 20 and len(digest) >= 40  # 16 and 32 bytes in base64


def test_stored_cost_is_honoured(monkeypatch):
    stored = hash_password(PASSWORD)
    monkeypatch.setattr(passwords, "SCRYPT_N", 2**14)
    assert verify_password(PASSWORD, stored)


@pytest.mark.parametrize("stored", [None, "", "md5$abc", "scrypt$x$8$1$AAAA$AAAA", "scrypt$16384$8$1$!!$!!"])
def test_missing_or_malformed_hashes_never_verify(stored):
    assert not verify_password(PASSWORD, stored)


def test_short_passwords_are_refused():
    with pytest.raises(PasswordError, match="at least 12"):
        hash_password("short")


def test_concurrent_hashes_are_bounded_and_the_excess_is_refused_at_once():
    stored = hash_password(PASSWORD)
    taken = [passwords.HASH_SLOTS.acquire(blocking=False) for _ in range(passwords.MAX_CONCURRENT_HASHES)]
    try:
        assert all(taken)
        with pytest.raises(passwords.HashingBusy):
            verify_password(PASSWORD, stored)
        with pytest.raises(passwords.HashingBusy):
            verify_password(PASSWORD, None)  # an unknown user costs a slot too
    finally:
        for _ in taken:
            passwords.HASH_SLOTS.release()
    assert verify_password(PASSWORD, stored)
