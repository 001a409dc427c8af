"""No admin changelist filters on a secret (issue #13, item 1): a password hash or an API token must not be
recoverable a prefix at a time through `?<relation>__<secret>__startswith=`, by the search box, or by a
new admin that forgets the rule."""

import pytest
from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.test import Client
from django.urls import NoReverseMatch, reverse
from rest_framework.authtoken.models import Token

from order_project.admin_site import SecretLookupsRefused, is_secret, reaches_secret
from tests.factories import StaffFactory, SupportFactory, TokenFactory, UserFactory, make_order
from users.models import User

pytestmark = pytest.mark.django_db

MAX_DEPTH = 3  # relations followed from a changelist's model


def secret_paths(model, depth: int = MAX_DEPTH, prefix: str = "", seen: frozenset = frozenset()):
    """Every filter path from `model` to a secret field, through at most `depth` relations, also spelled
    through `pk` and as the bare relation (compared by its secret primary key)."""
    for field in model._meta.get_fields():
        name = getattr(field, "name", None)
        if name is None:
            continue
        path = f"{prefix}{name}"
        if is_secret(field):
            yield path
            if field.primary_key:
                yield f"{prefix}pk"
        target = field.related_model if field.is_relation else None
        if target is None or target in seen or depth == 0:
            continue
        if is_secret(target._meta.pk):
            yield path  # e.g. auth_token__startswith: the relation compared by the token's key
        yield from secret_paths(target, depth - 1, f"{path}__", seen | {model})


def changelists() -> list:
    """Every admin's changelist that filters by its query string (Django's own changelist view; the
    "Order statistics" page has a view of its own that reads only its form)."""
    found = []
    for model, model_admin in admin.site._registry.items():
        if type(model_admin).changelist_view is not ModelAdmin.changelist_view:
            continue
        try:
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        except NoReverseMatch:
            continue
        found.append(pytest.param(model, url, id=f"{model._meta.app_label}.{model._meta.model_name}"))
    return found


@pytest.fixture
def superuser_client():
    client = Client()
    client.force_login(StaffFactory(is_superuser=True))
    return client


def test_every_registered_admin_refuses_secret_lookups():
    walked = {param.id for param in changelists()}
    assert {"users.user", "authtoken.tokenproxy", "auth.group", "orders.order", "products.product"} <= walked
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, SecretLookupsRefused), model


@pytest.mark.parametrize(("model", "url"), changelists())
def test_changelist_filters_through_a_secret_are_a_400(superuser_client, model, url):
    target = UserFactory(username="target")
    TokenFactory(user=target)
    make_order(user=target)
    paths = sorted(set(secret_paths(model)))
    if model is User:
        assert {"password", "auth_token", "auth_token__key", "auth_token__pk"} <= set(paths)
    for path in paths:
        for lookup in (f"{path}__startswith", f"{path}__gt"):
            response = superuser_client.get(url, {lookup: "7c"})
            assert response.status_code == 400, (url, lookup, response.status_code)


def test_a_support_agent_cannot_recover_a_token_by_prefix():
    """The attack of the issue, as the Support group's member it was reported for."""
    root = StaffFactory(is_superuser=True, username="admin")
    key = TokenFactory(user=root).key
    client = Client()
    client.force_login(SupportFactory())
    for lookup in ("auth_token__key__startswith", "auth_token__pk__startswith", "auth_token__gte"):
        response = client.get("/admin/users/user/", {lookup: key[:2], "username": "admin"})
        assert response.status_code == 400, lookup
    assert client.get("/admin/users/user/", {"password__startswith": root.password[:4]}).status_code == 400


def test_ordinary_filters_still_work(superuser_client):
    UserFactory(username="findme")
    assert superuser_client.get("/admin/users/user/", {"username__startswith": "find"}).status_code == 200
    assert superuser_client.get("/admin/users/user/", {"is_staff__exact": "1"}).status_code == 200
    assert superuser_client.get("/admin/orders/order/", {"status__exact": "pending"}).status_code == 200


def test_the_search_box_does_not_reach_tokens(superuser_client):
    target = UserFactory(username="target")
    key = TokenFactory(user=target).key
    page = superuser_client.get("/admin/users/user/", {"q": key[:6]}).content.decode()
    assert "target@example.com" not in page
    for model, model_admin in admin.site._registry.items():
        for name in model_admin.search_fields or ():
            assert not reaches_secret(model, name.lstrip("^=@")), (model, name)


def test_an_admin_declaring_a_secret_lookup_fails_the_system_checks():
    class LeakyUserAdmin(SecretLookupsRefused, ModelAdmin):
        search_fields = ["username", "auth_token__key"]
        list_filter = ["password"]

    errors = LeakyUserAdmin(User, admin.site).check()
    assert {error.id for error in errors} == {"order_project.E001"}
    assert len(errors) == 2


@pytest.mark.parametrize(
    ("model", "lookup", "secret"),
    [
        (User, "password", True),
        (User, "password__startswith", True),
        (User, "auth_token", True),
        (User, "auth_token__lt", True),
        (User, "auth_token__key__startswith", True),
        (User, "auth_token__pk__in", True),
        (User, "auth_token__created__gte", False),
        (User, "username__startswith", False),
        (User, "groups__name", False),
        (Token, "key__startswith", True),
        (Token, "user__password__regex", True),
        (Token, "user__username", False),
    ],
)
def test_reaches_secret(model, lookup, secret):
    assert reaches_secret(model, lookup) is secret
