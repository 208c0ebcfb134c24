"""A fixed-window counter in the default cache: `over_limit("reset-ip", ip, limit=10)` counts one
request and says whether the window (an hour by default) has now seen more than `limit`."""

from __future__ import annotations

import hashlib

from django.core.cache import cache


def over_limit(scope: str, value: str, *, limit: int, window_seconds: int = 3600) -> bool:
    # Hashed so that an email address never appears in a cache key.
    key = f"ratelimit:{scope}:{hashlib.sha256(value.encode()).hexdigest()}"
    cache.add(key, 0, timeout=window_seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window_seconds)
        count = 1
    return count > limit
