"""``Idempotency-Key`` on POST: the first answer to a key is stored (per caller) and
given again, unchanged, to a repeat of the same request, which then changes nothing.
The same key with a different request is refused (422)."""

from __future__ import annotations

import functools
import hashlib
import json

from django.db import IntegrityError, transaction
from rest_framework.response import Response

from .errors import error_response
from .models import IdempotentResponse
from .renderers import FastJSONRenderer

HEADER = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = 200


def idempotent(method):
    """Wrap a view's ``post``: honour an ``Idempotency-Key`` header when present."""

    @functools.wraps(method)
    def wrapper(view, request, *args, **kwargs):
        key = request.META.get(HEADER, "").strip()
        if not key:
            return method(view, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            return error_response(
                400, f"Idempotency-Key longer than {MAX_KEY_LENGTH} characters", "invalid"
            )
        digest = hashlib.sha256(
            json.dumps([request.path, request.data], sort_keys=True, default=str).encode()
        ).hexdigest()
        earlier = IdempotentResponse.objects.filter(user=request.user, key=key).first()
        if earlier is not None:
            return _replay(earlier, digest, request)
        with transaction.atomic():
            response = method(view, request, *args, **kwargs)
            if response.status_code >= 500:
                return response
            try:
                with transaction.atomic():
                    IdempotentResponse.objects.create(
                        user=request.user,
                        key=key,
                        method=request.method,
                        path=request.path[:500],
                        request_digest=digest,
                        status_code=response.status_code,
                        body=json.loads(FastJSONRenderer().render(response.data)),
                    )
            except IntegrityError:  # a concurrent request with the key won: answer as it did
                transaction.set_rollback(True)
                earlier = IdempotentResponse.objects.get(user=request.user, key=key)
                return _replay(earlier, digest, request)
        return response

    return wrapper


def _replay(earlier: IdempotentResponse, digest: str, request) -> Response:
    if earlier.request_digest != digest:
        return error_response(
            422,
            "this Idempotency-Key was used for a different request",
            "idempotency_key_reused",
        )
    response = Response(earlier.body, status=earlier.status_code)
    response["Idempotent-Replayed"] = "true"
    return response
