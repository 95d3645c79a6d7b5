"""API clients: per-system API keys, and the remembered answers of idempotent requests."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone


class ApiKey(models.Model):
    """A machine client's key. Only a SHA-256 digest of the secret is stored; the key
    is shown once, when it is created. Each key acts as its own service user, whose
    groups carry its role and who may write the records of its source system."""

    system = models.ForeignKey("golden.SourceSystem", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100, blank=True, help_text="what the key is for")
    prefix = models.CharField(max_length=16, unique=True, help_text="the key's visible part")
    digest = models.CharField(max_length=64, help_text="SHA-256 of the whole key")
    role = models.ForeignKey(Group, null=True, blank=True, on_delete=models.PROTECT)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_key"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        ordering = ["system__code", "-created_at"]

    def __str__(self) -> str:
        return f"{self.system.code} {self.prefix}… ({self.status})"

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        return "active"


class IdempotentResponse(models.Model):
    """The answer given to a POST that carried an ``Idempotency-Key`` header, so the
    same request again gets the same answer and changes nothing more."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    request_digest = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.method} {self.path}"
