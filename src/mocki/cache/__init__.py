"""Two-level cache (in-process LRU + Redis) in front of the database's hot reads; see core.py."""

from mocki.cache.core import Family, TwoLevelCache
from mocki.cache.hooks import attach, cache_of, invalidate_on_commit

__all__ = ["Family", "TwoLevelCache", "attach", "cache_of", "invalidate_on_commit"]
