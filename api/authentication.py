"""DRF authentication by API key (``Authorization: Api-Key <key>`` or ``X-API-Key``)."""

from rest_framework import authentication, exceptions

from .keys import ApiKeyError, check_api_key
from .models import ApiKey

KEYWORD = "Api-Key"


def plain_key_of(request) -> str:
    """The API key the request carries, or ""."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.startswith(f"{KEYWORD} "):
        return header[len(KEYWORD) + 1 :].strip()
    return request.META.get("HTTP_X_API_KEY", "").strip()


def valid_api_key(request) -> ApiKey | None:
    """The active API key the request carries; None when it carries none or one that
    :class:`ApiKeyAuthentication` refuses (it then answers with the reason)."""
    plain = plain_key_of(request)
    if not plain:
        return None
    try:
        return check_api_key(plain)
    except ApiKeyError:
        return None


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        plain = plain_key_of(request)
        if not plain:
            return None
        try:
            key = check_api_key(plain)
        except ApiKeyError as error:
            raise exceptions.AuthenticationFailed(str(error)) from None
        return key.user, key

    def authenticate_header(self, request) -> str:
        return f'{KEYWORD} realm="api"'
