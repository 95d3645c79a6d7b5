"""API keys: created and revoked here, checked on every request by
:class:`api.authentication.ApiKeyAuthentication`.

A key looks like ``mdm_1a2b3c4d_<secret>``: the prefix names it (shown in the admin and
in logs), the secret is random (256 bits). Only a SHA-256 digest of the whole key is
stored; a slow password hash buys nothing for a random secret of this length and would
cost milliseconds on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from golden.models import SourceSystem

from .models import ApiKey

KEY_PREFIX = "mdm_"
WRITE_RECORDS = "golden.write_records"


class ApiKeyError(ValueError):
    pass


def digest_of(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def create_api_key(
    system: SourceSystem,
    *,
    role: str | None = None,
    expires_days: int | None = None,
    name: str = "",
    created_by=None,
) -> tuple[ApiKey, str]:
    """A new key for ``system``; returns it with the plain key, which is not stored."""
    group = None
    if role:
        group = Group.objects.filter(name=role).first()
        if group is None:
            known = ", ".join(Group.objects.order_by("name").values_list("name", flat=True))
            raise ApiKeyError(f"unknown role '{role}' (known: {known or 'none'})")
    if expires_days is not None and expires_days <= 0:
        raise ApiKeyError("--expires must be a positive number of days")
    prefix = secrets.token_hex(4)
    plain = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        user = get_user_model().objects.create(
            username=f"api-{system.code.lower()}-{prefix}", is_active=True
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
        if group is not None:
            user.groups.add(group)
        assign_perm(WRITE_RECORDS, user, system)
        key = ApiKey.objects.create(
            system=system,
            name=name,
            prefix=prefix,
            digest=digest_of(plain),
            role=group,
            user=user,
            created_by=created_by,
            expires_at=timezone.now() + timedelta(days=expires_days) if expires_days else None,
        )
    return key, plain


def revoke_api_key(key: ApiKey) -> None:
    """The key stops working at once in this process, and within
    ``MDM_API_KEY_CACHE_SECONDS`` in every other."""
    with transaction.atomic():
        key.revoked_at = key.revoked_at or timezone.now()
        key.save(update_fields=["revoked_at"])
        key.user.is_active = False
        key.user.save(update_fields=["is_active"])
        remove_perm(WRITE_RECORDS, key.user, key.system)
    _cache.pop(key.prefix, None)


# Checking keys ------------------------------------------------------------------------

# prefix → (monotonic time until which the entry holds, the key with its user)
_cache: dict[str, tuple[float, ApiKey | None]] = {}
USE_RECORDED_EVERY = timedelta(minutes=1)


def check_api_key(plain: str) -> ApiKey:
    """The active key ``plain`` names; raises ApiKeyError (the reason is safe to show)."""
    if not plain.startswith(KEY_PREFIX) or plain.count("_") < 2:
        raise ApiKeyError("malformed API key")
    prefix = plain[len(KEY_PREFIX) :].split("_", 1)[0]
    now = time.monotonic()
    cached = _cache.get(prefix)
    if cached is None or cached[0] < now:
        key = ApiKey.objects.select_related("user", "system").filter(prefix=prefix).first()
        _cache[prefix] = (now + settings.MDM_API_KEY_CACHE_SECONDS, key)
        if len(_cache) > 10_000:
            _cache.clear()
    else:
        key = cached[1]
    if key is None or not hmac.compare_digest(key.digest, digest_of(plain)):
        raise ApiKeyError("invalid API key")
    status = key.status
    if status != "active":
        raise ApiKeyError(f"this API key is {status}")
    moment = timezone.now()
    if key.last_used_at is None or moment - key.last_used_at > USE_RECORDED_EVERY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=moment)
        key.last_used_at = moment
    return key
