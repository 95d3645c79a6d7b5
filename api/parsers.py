"""JSON request bodies parsed with orjson: a batch lookup of 10,000 keys parses
several times faster than with the standard decoder. Strict JSON, as DRF's own
parser with ``STRICT_JSON``: NaN and Infinity are refused."""

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from .renderers import FastJSONRenderer


class FastJSONParser(JSONParser):
    renderer_class = FastJSONRenderer

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise ParseError(f"JSON parse error - {error}") from None
