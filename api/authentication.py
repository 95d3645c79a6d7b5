"""DRF authentication by API key (``Authorization: Api-Key <key>`` or ``X-API-Key``)."""

from rest_framework import authentication, exceptions

from .keys import ApiKeyError, check_api_key

KEYWORD = "Api-Key"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header.startswith(f"{KEYWORD} "):
            plain = header[len(KEYWORD) + 1 :].strip()
        else:
            plain = request.META.get("HTTP_X_API_KEY", "").strip()
        if not plain:
            return None
        try:
            key = check_api_key(plain)
        except ApiKeyError as error:
            raise exceptions.AuthenticationFailed(str(error)) from None
        return key.user, key

    def authenticate_header(self, request) -> str:
        return f'{KEYWORD} realm="api"'
