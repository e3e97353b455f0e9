"""Login throttling on the real Redis: every web worker sees the same failures and spent form tokens."""

import secrets

import pytest
import redis

from dashboard.security.throttle import Throttle


@pytest.fixture
def workers(redis_url, deployment):
    """Two throttles on one Redis, as two gunicorn workers have; their keys removed after."""
    yield Throttle(redis_url, deployment), Throttle(redis_url, deployment)
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"*opscenter:{deployment}:login*", count=1000))
    assert keys  # the counts really were in Redis
    client.delete(*keys)
    client.close()


def test_failures_counted_by_one_worker_hold_the_user_on_another(workers):
    first, second = workers
    for _ in range(5):
        assert first.wait("alice", "10.0.0.1") == 0
        first.failed("alice", "10.0.0.1")
    assert 0 < second.wait("alice", "10.0.0.2") <= 60
    assert second.wait("bob", "10.0.0.2") == 0


def test_a_form_token_spent_on_one_worker_is_spent_on_all(workers):
    first, second = workers
    nonce = secrets.token_urlsafe(16)
    assert first.first_use("form", nonce, 3600)
    assert not second.first_use("form", nonce, 3600)


def test_an_unreachable_redis_refuses_rather_than_lifting_the_limits():
    from limits.errors import StorageError

    from tests.conftest import free_port

    throttle = Throttle(f"redis://127.0.0.1:{free_port()}/0", "gone")
    with pytest.raises(StorageError):
        throttle.wait("alice", "10.0.0.1")
