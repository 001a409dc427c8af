"""The Redis cache (core/cache.py) against the real Redis: Django's behaviour, with one redis-py client kept
per connection pool instead of one built per call."""

import uuid

import pytest
from django.conf import settings
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from core.cache import RedisCache


@pytest.fixture
def redis_cache():
    prefix = f"{settings.CACHES['default']['KEY_PREFIX']}-test-cache-{uuid.uuid4().hex[:8]}"
    cache = RedisCache(settings.CACHES["default"]["LOCATION"], {"KEY_PREFIX": prefix})
    yield cache
    cache.delete_many(["relay", "count", "a", "b"])  # its own keys only: the server is shared


def test_it_answers_as_djangos_redis_cache(redis_cache):
    assert isinstance(redis_cache, DjangoRedisCache)
    assert redis_cache.add("relay", 1, timeout=5) is True
    assert redis_cache.add("relay", 1, timeout=5) is False  # the relay's "queued once" key
    assert redis_cache.get("relay") == 1
    redis_cache.set("count", 41)
    assert redis_cache.incr("count") == 42
    redis_cache.set_many({"a": [1, 2], "b": {"x": "y"}})
    assert redis_cache.get_many(["a", "b", "missing"]) == {"a": [1, 2], "b": {"x": "y"}}
    assert redis_cache.delete("relay") is True
    assert redis_cache.get("relay", "gone") == "gone"


def test_every_call_uses_the_one_client_of_its_pool(redis_cache):
    client = redis_cache._cache.get_client(write=True)
    redis_cache.set("a", 1)
    redis_cache.get("a")
    assert redis_cache._cache.get_client(write=True) is client
    assert redis_cache._cache.get_client() is client  # one server: reads and writes share its pool


def test_the_project_uses_it():
    from django.core.cache import caches

    assert isinstance(caches["default"], RedisCache)
