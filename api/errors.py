"""Errors as JSON with a plain reason and a stable code: ``{"detail": ..., "code": ...}``."""

from django.core.exceptions import RequestDataTooBig
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "the request body is too large"
    default_code = "too_large"


class FieldForbidden(exceptions.PermissionDenied):
    default_code = "field_forbidden"


def exception_handler(error, context):
    if isinstance(error, RequestDataTooBig):
        error = PayloadTooLarge(f"the request body is larger than the limit ({error})")
    response = drf_exception_handler(error, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and "detail" in data:
        code = getattr(data["detail"], "code", None) or getattr(error, "default_code", "error")
        response.data = {"detail": str(data["detail"]), "code": code, **_extra(error)}
    elif isinstance(data, dict | list):
        response.data = {"detail": "invalid request", "code": "invalid", "errors": data}
    return response


def _extra(error) -> dict:
    extra = getattr(error, "extra", None)
    return dict(extra) if isinstance(extra, dict) else {}


def error_response(status_code: int, detail: str, code: str, **extra) -> Response:
    return Response({"detail": detail, "code": code, **extra}, status=status_code)
