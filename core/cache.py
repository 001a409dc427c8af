"""Django's Redis cache, with the redis-py client kept. Django's RedisCacheClient builds a new redis.Redis
for every cache call (with its ~170 response callbacks): 0.24-0.25 ms of CPU per call against 0.07-0.08
with the client kept, a third of an empty relay pass (0.76 ms), and paid in every create (the relay's
commit hook, the order throttle). A client holds no connection of its own (it borrows one
from the pool per command, and is thread-safe), so one per pool serves every call of the cache."""

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class KeptClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kept_clients: dict[int, Any] = {}  # id of a pool (kept in self._pools) -> its client

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._kept_clients.get(id(pool))
        if client is None:
            client = self._kept_clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = KeptClientRedisCacheClient
