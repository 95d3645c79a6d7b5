"""Throttling per API key (or per logged-in user): HTTP 429 past the configured rate.

A fixed-window counter in the cache: one ``incr`` per request, whatever the rate. (DRF's
``SimpleRateThrottle`` keeps every request's timestamp of the window and writes the
whole list back on each request, which costs more the higher the rate.)"""

import time

from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiKey


class PerClientThrottle(SimpleRateThrottle):
    scope = "client"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiKey):
            return self.key_for_api_key(request.auth)
        if request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"anon:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def key_for_api_key(self, key: ApiKey) -> str:
        return self.cache_format % {"scope": self.scope, "ident": f"key:{key.prefix}"}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        return self.count(key)

    def count(self, key: str) -> bool:
        """Count one request of the client ``key`` names; False past its rate."""
        self.now = time.time()
        self.window_start = self.now - self.now % self.duration
        counter = f"{key}:{int(self.window_start)}"
        if cache.add(counter, 1, timeout=int(self.duration) + 1):
            return True
        try:
            count = cache.incr(counter)
        except ValueError:  # expired between add and incr
            cache.add(counter, 1, timeout=int(self.duration) + 1)
            return True
        return count <= self.num_requests

    def wait(self):
        return max(0.0, self.window_start + self.duration - time.time())


def api_key_within_rate(key: ApiKey) -> bool:
    """Count one request of ``key`` as :class:`PerClientThrottle` does (for views that
    answer without DRF's request cycle); False past its rate."""
    throttle = PerClientThrottle()
    return throttle.rate is None or throttle.count(throttle.key_for_api_key(key))
