"""core.mail: an email built from the cached template is byte for byte the one Django builds."""

import io

import pytest
from django.core.mail import EmailMessage
from django.core.mail import message as django_message
from django.core.mail.backends.console import EmailBackend as ConsoleBackend

from core import mail
from core.mail import RenderedMessage, TemplatedEmail

DATE = "Tue, 01 Dec 2026 12:00:00 -0000"
MESSAGE_ID = "<179612995669.20370.2212518671072188760@orders.example.com>"
BODY = "Thank you for your order ORD-20261201-7KQ2M9.\n\n  2 x Classic T-Shirt (SKU-000001)\n\nTotal: $12.30\n"


@pytest.fixture(autouse=True)
def fixed_date_and_id(monkeypatch):
    """The same Date and Message-ID for both forms, the template's and Django's own."""
    for module in (mail, django_message):
        monkeypatch.setattr(module, "formatdate", lambda localtime=False: DATE)
        monkeypatch.setattr(module, "make_msgid", lambda domain=None: MESSAGE_ID)


def _django(subject: str, body: str, to: list[str], from_email: str = "orders@example.com") -> EmailMessage:
    return EmailMessage(subject, body, from_email, to)


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Your order ORD-20261201-7KQ2M9", BODY),
        ("Your order ORD-20261201-7KQ2M9", BODY.replace("Classic T-Shirt", "Caf\u00e9 cr\u00e8me \u2615")),
        ("Your order {ORD} was cancelled", "Reason: {reason} {0} %s\n"),  # braces are values, not fields
    ],
)
@pytest.mark.parametrize("linesep", ["\n", "\r\n"])  # the console backend's, SMTP's
def test_the_template_renders_what_django_renders(subject, body, linesep):
    templated = TemplatedEmail(subject, body, "orders@example.com", ["ada@example.com"]).message()

    assert isinstance(templated, RenderedMessage)
    expected = _django(subject, body, ["ada@example.com"]).message()
    assert templated.as_bytes(linesep=linesep) == expected.as_bytes(linesep=linesep)
    assert templated.get_charset() == expected.get_charset()


@pytest.mark.parametrize(
    ("subject", "body", "to"),
    [
        ("Your order " + "X" * 70, BODY, ["ada@example.com"]),  # Django folds the Subject line
        ("Votre commande est exp\u00e9di\u00e9e", BODY, ["ada@example.com"]),  # an encoded-word subject
        ("Your order", BODY, ["Ada Lovelace <ada@example.com>"]),  # a display name is parsed and re-rendered
        ("Your order", BODY, ["ad\u00e4@example.com"]),
        ("Your order", "x" * 999 + "\n", ["ada@example.com"]),  # quoted-printable
        ("Your order", "line\r\nline\n", ["ada@example.com"]),
        ("Your order", "no newline at the end", ["ada@example.com"]),
        ("Your order", "line\u2028line\n", ["ada@example.com"]),
    ],
)
def test_anything_django_would_rewrite_is_built_by_django(subject, body, to):
    templated = TemplatedEmail(subject, body, "orders@example.com", to).message()

    assert not isinstance(templated, RenderedMessage)
    assert templated.as_bytes() == _django(subject, body, to).message().as_bytes()


def test_a_templated_email_goes_through_a_backend_as_django_would_send_it():
    sent, expected = io.StringIO(), io.StringIO()

    ConsoleBackend(stream=sent).send_messages(
        [TemplatedEmail("Your order", BODY, "orders@example.com", ["a@b.example"])]
    )
    ConsoleBackend(stream=expected).send_messages([_django("Your order", BODY, ["a@b.example"])])

    assert sent.getvalue() == expected.getvalue()
