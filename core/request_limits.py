"""Bounded request bodies: oversized bodies and absurdly nested JSON are client errors in the
contract's shape, never a 500 (see also core/error_handler.py); chunked bodies are read."""

import io
import json

import orjson
from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

from .error_codes import ErrorCode

# The deepest valid body is a product: {"variants": [{"attributes": {"Color": "Red"}}]}.
MAX_JSON_DEPTH = 32


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = ErrorCode.REQUEST_TOO_LARGE

    def __init__(self):
        super().__init__(f"The request body is larger than the {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes allowed.")


def json_depth(value) -> int:
    """How deeply lists and objects nest in parsed JSON, without recursion (a scalar is 0)."""
    return _depth_and_floats(value)[0]


def _depth_and_floats(value) -> tuple[int, bool]:
    """json_depth, and whether a float is anywhere in the value (in one walk)."""
    deepest, floats = 0, False
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            floats = floats or isinstance(item, float)
            continue
        deepest = max(deepest, depth)
        if depth < MAX_JSON_DEPTH + 1:
            pending.extend((child, depth + 1) for child in children)
    return deepest, floats


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, with a bound on nesting: Python's decoder recurses, so very deep JSON would
    otherwise end in a RecursionError (a 500), and moderately deep JSON reaches code that recurses too.

    A UTF-8 body is read by orjson first (twice as fast as the stdlib decoder). A body orjson refuses goes to
    DRF's parser as before, so DRF decides with its own messages (nesting past orjson's 1,024 levels, a lone
    surrogate, every malformed body); so does one with a float in it, because orjson reads an integer beyond
    64 bits as a float, and DRF keeps it an integer for the serializer to bound (`max_value`, not `invalid`)."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        if stream is not None and encoding.lower().replace("-", "") == "utf8":
            raw = stream.read()
            try:
                data = orjson.loads(raw)
            except orjson.JSONDecodeError:
                pass
            else:
                depth, floats = _depth_and_floats(data)
                if depth > MAX_JSON_DEPTH:
                    raise _too_deep()
                if not floats:
                    return data
            stream = io.BytesIO(raw)
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise _too_deep() from None
        if json_depth(data) > MAX_JSON_DEPTH:
            raise _too_deep()
        return data


def _too_deep() -> ParseError:
    return ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")


class ChunkedBodyMiddleware:
    """WSGI middleware for bodies sent with `Transfer-Encoding: chunked`: they come without a Content-Length,
    and Django reads Content-Length bytes of a body, so it would see none and answer "required" for every
    field. Where the server ends wsgi.input at the end of the body (gunicorn says so with
    `wsgi.input_terminated`) the body is read here, bounded like any other; elsewhere it is a 411."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if not chunked or environ.get("CONTENT_LENGTH"):
            return self.application(environ, start_response)
        if not environ.get("wsgi.input_terminated"):
            return _length_required(start_response)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        # One byte past the limit is enough for Django's 413 (RequestDataTooBig); the rest is never read.
        body = environ["wsgi.input"].read(-1 if limit is None else limit + 1)
        return self.application(
            {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}, start_response
        )


def _length_required(start_response) -> list[bytes]:
    error = {"code": ErrorCode.LENGTH_REQUIRED, "detail": "Send a Content-Length with the body.", "attr": None}
    payload = json.dumps({"type": "client_error", "errors": [error]}).encode()
    start_response("411 Length Required", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]
