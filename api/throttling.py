"""Throttling per API key (or per logged-in user): HTTP 429 past the configured rate."""

from rest_framework.throttling import SimpleRateThrottle

from .models import ApiKey


class PerClientThrottle(SimpleRateThrottle):
    scope = "client"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiKey):
            ident = f"key:{request.auth.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"anon:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
