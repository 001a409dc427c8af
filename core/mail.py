"""Plain-text emails sent in bulk (the event handlers' notifications), built from a cached template.

Django builds every EmailMessage's MIME form with the standard library's email package: a MIMEText, each
address parsed and re-rendered, every header folded again when it is written out. That cost ~200 µs of
CPU per email, more than the rest of an event's handling. Every email of this kind has the same MIME
skeleton, so Django renders the skeleton once (per body kind: ASCII or not) with placeholder values, and
each email fills it in by string formatting. Only values Django would write out unchanged take this
path: printable ASCII headers that need no encoding, address parsing or folding, and a body whose lines
fit the RFC 5322 limit and end with a newline; anything else is built by Django as usual.
tests/core/test_mail.py holds the two forms byte for byte equal.
"""

import functools
import re
from email.charset import Charset
from email.utils import formatdate, make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import RFC5322_EMAIL_LINE_LENGTH_LIMIT
from django.core.mail.utils import DNS_NAME

# Compat32, the policy Django writes headers with, folds lines longer than this.
_HEADER_LINE_LIMIT = 78
# An address Django writes out as it is: a bare addr-spec of printable ASCII, no display name.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+\Z")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*\Z")
_PLACEHOLDERS = {
    "subject": "Subject-placeholder",
    "from_email": "from-placeholder@example.invalid",
    "to": "to-placeholder@example.invalid",
    "date": "Date-placeholder",
    "message_id": "<message-id-placeholder@example.invalid>",
}


class TemplatedEmail(EmailMessage):
    """A plain-text EmailMessage whose MIME form comes from the cached template when it can."""

    def message(self, **kwargs: Any) -> Any:
        rendered = None if kwargs else _rendered(self)
        return rendered if rendered is not None else super().message(**kwargs)


class RenderedMessage:
    """The MIME form of a TemplatedEmail, as the email backends use one (SMTP's as_bytes with CRLF line ends,
    the console and file backends' as_bytes and get_charset)."""

    def __init__(self, data: str) -> None:
        self._data = data

    def as_bytes(self, unixfrom: bool = False, linesep: str = "\n") -> bytes:
        return self.as_string(linesep=linesep).encode()

    def as_string(self, unixfrom: bool = False, linesep: str = "\n") -> str:
        return self._data if linesep == "\n" else self._data.replace("\n", linesep)

    def get_charset(self) -> Charset:
        return Charset("utf-8")


def _rendered(email: EmailMessage) -> RenderedMessage | None:
    if not _fits_template(email):
        return None
    header = _header_template(email.body.isascii()).format(
        subject=email.subject,
        from_email=email.from_email,
        to=", ".join(email.to),
        date=formatdate(localtime=settings.EMAIL_USE_LOCALTIME),
        message_id=make_msgid(domain=DNS_NAME),
    )
    return RenderedMessage(f"{header}\n\n{email.body}")


def _fits_template(email: EmailMessage) -> bool:
    """Whether Django would write every value of this email out unchanged (see the module's docstring)."""
    if (
        email.cc
        or email.bcc
        or email.reply_to
        or email.extra_headers
        or email.attachments
        or getattr(email, "alternatives", None)
        or email.content_subtype != "plain"
        or (email.encoding or settings.DEFAULT_CHARSET).lower() != "utf-8"
        or not email.to
    ):
        return False
    to = ", ".join(email.to)
    headers_fit = (
        all(_PLAIN_ADDRESS.match(str(address)) for address in [email.from_email, *email.to])
        and _PRINTABLE_ASCII.match(str(email.subject)) is not None
        and len(f"Subject: {email.subject}") <= _HEADER_LINE_LIMIT
        and len(f"From: {email.from_email}") <= _HEADER_LINE_LIMIT
        and len(f"To: {to}") <= _HEADER_LINE_LIMIT
    )
    body = email.body
    # Only "\n" line ends (splitlines() also splits on \r, \v, \f, \x1c-\x1e, \x85, \u2028, \u2029, which
    # the email package would rewrite), and no line longer than the limit (quoted-printable then).
    lines = body.split("\n")
    return (
        headers_fit
        and body.endswith("\n")
        and "\r" not in body
        and len(body.splitlines()) == len(lines) - 1
        and all(len(line.encode(errors="surrogateescape")) <= RFC5322_EMAIL_LINE_LENGTH_LIMIT for line in lines)
    )


@functools.cache
def _header_template(ascii_body: bool) -> str:
    """Django's header block for an email of this kind, with a {field} where each email's value goes."""
    sample = EmailMessage(
        _PLACEHOLDERS["subject"],
        "body\n" if ascii_body else "b\u00f6dy\n",  # the body's kind decides Content-Transfer-Encoding
        _PLACEHOLDERS["from_email"],
        [_PLACEHOLDERS["to"]],
        headers={"Date": _PLACEHOLDERS["date"], "Message-ID": _PLACEHOLDERS["message_id"]},
    )
    header = sample.message().as_bytes().split(b"\n\n", 1)[0].decode("ascii")
    header = header.replace("{", "{{").replace("}", "}}")
    for field, placeholder in _PLACEHOLDERS.items():
        header = header.replace(placeholder, "{" + field + "}")
    return header
