"""Bounded requests: oversized heads and bodies and absurdly nested JSON are client errors in the
contract's shape, never a 500 (see also core/error_handler.py)."""

import io
import json
import uuid

import orjson
from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

from .error_codes import ErrorCode
from .request_id import HEADER as REQUEST_ID_HEADER
from .request_id import start_request_log

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


# The request head's bounds (gunicorn's defaults, which the service had before uWSGI): the request line
# (method, target, protocol), the number of header fields and the size of each value. uWSGI itself only
# drops a connection whose head exceeds its buffer or variables (order_project/serve.py), without an answer.
MAX_REQUEST_LINE = 4094
MAX_HEADER_FIELDS = 100
MAX_HEADER_FIELD_SIZE = 8190
_UNPREFIXED_HEADERS = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})


class RequestBoundsMiddleware:
    """WSGI middleware, before Django, for what a client can send that the server passes on: a request line or
    header fields over the limits above are a 414 or a 431 in the contract's error shape.

    A body sent with `Transfer-Encoding: chunked` is a 411: it comes without a Content-Length and uWSGI does
    not end wsgi.input where the body ends, so Django would read no body and answer "required" for every
    field. With a Content-Length as well it is a 400: uWSGI frames the body by the Content-Length, a proxy in
    front may frame it by the chunks, and the two would disagree on where the next request starts."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        refusal = _refusal(environ)
        if refusal:
            return _refuse(start_response, *refusal)
        return self.application(environ, start_response)


def _refusal(environ) -> tuple[str, ErrorCode, str] | None:
    target = environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
    request_line = len(environ.get("REQUEST_METHOD", "")) + len(target) + len(environ.get("SERVER_PROTOCOL", "")) + 2
    if request_line > MAX_REQUEST_LINE:
        return "414 URI Too Long", ErrorCode.URI_TOO_LONG, f"The request line is longer than {MAX_REQUEST_LINE} bytes."
    fields = [value for name, value in environ.items() if name.startswith("HTTP_") or name in _UNPREFIXED_HEADERS]
    if len(fields) > MAX_HEADER_FIELDS or any(len(value) > MAX_HEADER_FIELD_SIZE for value in fields):
        detail = f"At most {MAX_HEADER_FIELDS} header fields of at most {MAX_HEADER_FIELD_SIZE} bytes each."
        return "431 Request Header Fields Too Large", ErrorCode.REQUEST_HEADER_FIELDS_TOO_LARGE, detail
    if "HTTP_TRANSFER_ENCODING" in environ:
        if environ.get("CONTENT_LENGTH"):
            return "400 Bad Request", ErrorCode.BAD_REQUEST, "Send either Transfer-Encoding or Content-Length."
        return "411 Length Required", ErrorCode.LENGTH_REQUIRED, "Send a Content-Length with the body."
    return None


def _refuse(start_response, status_line: str, code: ErrorCode, detail: str) -> list[bytes]:
    """The answer before Django saw the request, with a request id of its own. The connection is closed after
    it: a body that was not read must not be taken for the next request on a kept-alive connection."""
    payload = json.dumps({"type": "client_error", "errors": [{"code": code, "detail": detail, "attr": None}]}).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(payload))),
        ("Connection", "close"),
        (REQUEST_ID_HEADER, start_request_log(uuid.uuid4().hex)),
    ]
    start_response(status_line, headers)
    return [payload]
