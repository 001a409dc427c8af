"""Users through the public API: sign-up, tokens, the caller's profile and staff user management."""

import importlib
import uuid

import pytest
from django.apps import apps as django_apps
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from conftest import client_for
from core.exceptions import ApplicationError, ErrorKind
from tests.assertions import USER_FIELDS, assert_client_error, errors_by_attr
from tests.concurrency import post, run_together
from tests.factories import (
    StaffFactory,
    StaffWithoutPermissionsFactory,
    SupportFactory,
    TokenFactory,
    UserFactory,
    make_order,
)
from users import services
from users.models import User

pytestmark = pytest.mark.django_db


USERS_URL = "/api/v1/users/"
ME_URL = "/api/v1/users/me/"
TOKEN_URL = "/api/v1/auth/token/"
GOOD_PASSWORD = "Tr1cky-Walrus-Lamp"


def deactivate_url(user_id) -> str:
    return f"{USERS_URL}{user_id}/deactivate/"


def signup_payload(**overrides):
    payload = {
        "username": "jdoe",
        "email": "John.Doe@example.com",
        "password": GOOD_PASSWORD,
        "display_name": "John",
        "phone": "+1234567890",
    }
    payload.update(overrides)
    return payload


# ---- sign-up --------------------------------------------------------------------------------------


def test_sign_up_returns_public_fields_only_and_stores_a_hashed_password(anon_client):
    response = anon_client.post(USERS_URL, signup_payload())

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == USER_FIELDS
    user = User.objects.get(username="jdoe")
    assert body == {
        "id": str(user.pk),
        "username": "jdoe",
        "email": "John.Doe@example.com",
        "display_name": "John",
        "phone": "+1234567890",
        "is_staff": False,
    }
    assert user.password != GOOD_PASSWORD
    assert user.check_password(GOOD_PASSWORD)
    assert user.is_active and user.deleted_at is None
    assert GOOD_PASSWORD not in response.content.decode()


def test_sign_up_cannot_grant_staff_or_superuser(anon_client):
    response = anon_client.post(USERS_URL, signup_payload(is_staff=True, is_superuser=True))

    assert response.status_code == 201, response.content
    assert response.json()["is_staff"] is False
    user = User.objects.get(username="jdoe")
    assert not user.is_staff and not user.is_superuser


def test_sign_up_with_only_username_and_password(anon_client):
    response = anon_client.post(USERS_URL, {"username": "minimal", "password": GOOD_PASSWORD})

    assert response.status_code == 201, response.content
    assert response.json() | {"id": None} == {
        "id": None,
        "username": "minimal",
        "email": "",
        "display_name": "",
        "phone": "",
        "is_staff": False,
    }


def test_signed_up_user_gets_a_token_that_authenticates(anon_client):
    assert anon_client.post(USERS_URL, signup_payload()).status_code == 201

    response = anon_client.post(TOKEN_URL, {"username": "jdoe", "password": GOOD_PASSWORD})

    assert response.status_code == 200, response.content
    assert set(response.json()) == {"token"}
    key = response.json()["token"]
    assert Token.objects.get(key=key).user.username == "jdoe"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    me = client.get(ME_URL)
    assert me.status_code == 200
    assert me.json()["username"] == "jdoe"


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Ab1-x", "password_too_short"),
        ("password123", "password_too_common"),
        ("839201746512", "password_entirely_numeric"),
        ("jdoe-example", "password_too_similar"),
    ],
)
def test_sign_up_with_weak_password_is_rejected_by_django_validators(anon_client, password, code):
    response = anon_client.post(USERS_URL, signup_payload(password=password, email="jdoe@example.com"))

    errors = errors_by_attr(response, 400)
    assert set(errors) == {"password"}
    assert code in errors["password"]
    assert not User.objects.filter(username="jdoe").exists()


def test_sign_up_with_taken_username_is_rejected(anon_client):
    UserFactory(username="jdoe")

    response = anon_client.post(USERS_URL, signup_payload(email="other@example.com"))

    assert errors_by_attr(response, 400) == {"username": {"unique"}}
    assert User.objects.filter(username="jdoe").count() == 1


def test_sign_up_with_username_differing_only_in_case_is_rejected(anon_client):
    UserFactory(username="jdoe")

    response = anon_client.post(USERS_URL, signup_payload(username="JDoe", email="other@example.com"))

    assert errors_by_attr(response, 400) == {"username": {"unique"}}
    assert not User.objects.filter(username="JDoe").exists()


@pytest.mark.django_db(transaction=True)
def test_sign_up_racing_another_case_of_the_same_username_makes_one_user():
    """`raced` and `RACED` at the same moment: both pass the check, the lower(username) index decides."""
    for round_ in range(4):
        names = [f"raced{round_}", f"RACED{round_}"]
        calls = [
            post(APIClient(), USERS_URL, signup_payload(username=name, email=f"{name}.{index}@example.com"))
            for index, name in enumerate(names)
        ]

        results = run_together(*calls, start_reversed=bool(round_ % 2))

        assert sorted(status for status, _ in results) == [201, 400], results
        refused = next(body for status, body in results if status == 400)
        assert refused["errors"] == [{"code": "unique", "detail": refused["errors"][0]["detail"], "attr": "username"}]
        assert User.objects.filter(username__iexact=names[0]).count() == 1


# The database's rule, whatever the path in: createsuperuser, a shell, a migration.
def test_usernames_differing_only_in_case_are_refused_by_the_database():
    UserFactory(username="Twin")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="tWIN")


def test_the_migration_refuses_existing_usernames_differing_only_in_case():
    """Renaming someone's login behind their back would be worse than stopping: the migration names them."""
    migration = importlib.import_module("users.migrations.0002_username_case_insensitive_unique")
    constraint = next(c for c in User._meta.constraints if c.name == "users_user_username_ci_unique")
    with connection.schema_editor() as editor:  # rolled back with the test's transaction
        editor.remove_constraint(User, constraint)
    UserFactory(username="Twin", email="")
    UserFactory(username="tWIN", email="")
    UserFactory(username="single")

    with pytest.raises(RuntimeError, match="renamed") as refused:
        migration.refuse_case_duplicates(django_apps, None)
    assert "Twin, tWIN" in str(refused.value) and "single" not in str(refused.value)


@pytest.mark.parametrize("look_alike", ["\uff41\uff44\uff4d\uff49\uff4e", "\uff21\uff24\uff2d\uff29\uff2e", "ADMIN"])
def test_sign_up_with_a_full_width_or_case_look_alike_of_a_taken_name_is_refused(anon_client, look_alike):
    UserFactory(username="admin")

    response = anon_client.post(USERS_URL, signup_payload(username=look_alike, email="imp@example.com"))

    assert errors_by_attr(response, 400) == {"username": {"unique"}}
    assert User.objects.count() == 1


@pytest.mark.parametrize("name", ["\u2474", "a\ufe57b"])  # NFKC: "(1)" and "a!b"
def test_sign_up_refuses_a_name_that_normalisation_turns_into_forbidden_characters(anon_client, name):
    response = anon_client.post(USERS_URL, signup_payload(username=name, email="n@example.com"))

    assert errors_by_attr(response, 400) == {"username": {"invalid"}}
    assert not User.objects.filter(email="n@example.com").exists()


def test_sign_up_stores_the_normalised_username(anon_client):
    # Full-width "bob" and the "fi" ligature: NFKC makes them the plain letters.
    response = anon_client.post(USERS_URL, signup_payload(username="\uff42\uff4f\uff42_\ufb01", email="b@example.com"))

    assert response.status_code == 201, response.content
    assert response.json()["username"] == "bob_fi"
    assert User.objects.filter(username="bob_fi").exists()


def test_sign_up_with_a_name_normalisation_makes_too_long_is_400(anon_client):
    response = anon_client.post(USERS_URL, signup_payload(username="\ufdfa" * 10))  # 180 letters after NFKC

    assert errors_by_attr(response, 400) == {"username": {"max_length"}}
    assert not User.objects.exists()


def test_admin_user_forms_refuse_a_look_alike_of_a_taken_name(client):
    UserFactory(username="alice")
    target = UserFactory(username="target")
    client.force_login(StaffWithoutPermissionsFactory(is_superuser=True))
    url = f"/admin/users/user/{target.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data = {k: v for k, v in data.items() if k not in ("groups", "user_permissions", "password")}
    data.update({"date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"})

    for look_alike in ("ALICE", "\uff41\uff4c\uff49\uff43\uff45"):
        response = client.post(url, {**data, "username": look_alike})

        assert response.status_code == 200  # the form again, with the error
        assert "already exists" in str(response.context["adminform"].form.errors), look_alike
    target.refresh_from_db()
    assert target.username == "target"

    added = client.post(
        "/admin/users/user/add/",
        {"username": "\uff21lice", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD, "usable_password": "true"},
    )
    assert added.status_code == 200
    assert User.objects.filter(username__iexact="alice").count() == 1


def test_sign_up_with_taken_email_in_another_case_is_rejected(anon_client):
    UserFactory(email="john.doe@example.com")

    response = anon_client.post(USERS_URL, signup_payload(email="JOHN.DOE@Example.COM"))

    assert errors_by_attr(response, 400) == {"email": {"unique"}}
    assert not User.objects.filter(username="jdoe").exists()


@pytest.mark.parametrize(
    ("attr", "existing"), [("username", {"username": "jdoe"}), ("email", {"email": "JOHN.DOE@example.com"})]
)
def test_sign_up_losing_a_race_for_username_or_email_is_400_not_500(anon_client, monkeypatch, attr, existing):
    """Another sign-up commits the same name between our check and our insert: the database decides."""
    UserFactory(**existing)
    monkeypatch.setattr(services, "username_problems", lambda username: [])
    monkeypatch.setattr(services, "email_problems", lambda email, exclude=None: [])

    response = anon_client.post(USERS_URL, signup_payload())

    assert errors_by_attr(response, 400) == {attr: {"unique"}}


def test_sign_up_with_missing_fields_lists_every_missing_field(anon_client):
    response = anon_client.post(USERS_URL, {})

    assert errors_by_attr(response, 400) == {"username": {"required"}, "password": {"required"}}


def test_sign_up_reports_every_problem_at_once(anon_client):
    UserFactory(username="jdoe", email="john.doe@example.com")

    response = anon_client.post(USERS_URL, signup_payload(password="123"))

    errors = errors_by_attr(response, 400)
    assert set(errors) == {"username", "email", "password"}
    assert User.objects.count() == 1


def test_sign_up_reports_taken_username_together_with_malformed_fields(anon_client):
    UserFactory(username="jdoe")

    response = anon_client.post(USERS_URL, {"username": "jdoe", "email": "not-an-email", "phone": "1" * 33})

    errors = errors_by_attr(response, 400)
    assert errors == {"username": {"unique"}, "email": {"invalid"}, "password": {"required"}, "phone": {"max_length"}}


def test_sign_up_reports_weak_password_together_with_malformed_fields(anon_client):
    response = anon_client.post(USERS_URL, {"username": "has space", "password": "123"})

    errors = errors_by_attr(response, 400)
    assert set(errors) == {"username", "password"}
    assert "password_too_short" in errors["password"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-email"),
        ("username", "has space"),
        ("username", "u" * 151),
        ("display_name", "d" * 151),
        ("phone", "1" * 33),
    ],
)
def test_sign_up_with_invalid_field_is_rejected(anon_client, field, value):
    response = anon_client.post(USERS_URL, signup_payload(**{field: value}))

    assert set(errors_by_attr(response, 400)) == {field}
    assert not User.objects.exists()


def test_sign_up_closed_by_setting_is_forbidden(anon_client, settings):
    settings.USER_SIGNUP_OPEN = False

    response = anon_client.post(USERS_URL, signup_payload())

    assert_client_error(response, 403, "permission_denied")
    assert not User.objects.exists()


# ---- tokens and authentication ------------------------------------------------------------------


def test_token_for_existing_user_authenticates_as_that_user(anon_client):
    user = UserFactory(username="alice")

    response = anon_client.post(TOKEN_URL, {"username": "alice", "password": "s3cret-Passw0rd"})

    assert response.status_code == 200, response.content
    assert response.json() == {"token": Token.objects.get(user=user).key}
    anon_client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert anon_client.get(ME_URL).json()["id"] == str(user.pk)


def assert_authentication_failed(response) -> None:
    """The contract's 401 for bad credentials, with the challenge DRF gives every 401."""
    assert_client_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "alice", "password": "wrong-password"},
        {"username": "nobody", "password": "s3cret-Passw0rd"},
        {"username": "ALICE", "password": "s3cret-Passw0rd"},
    ],
)
def test_token_with_bad_credentials_is_401_authentication_failed(anon_client, credentials):
    UserFactory(username="alice")

    response = anon_client.post(TOKEN_URL, credentials)

    assert_authentication_failed(response)
    assert not Token.objects.exists()


@pytest.mark.parametrize(("field", "length"), [("username", 151), ("password", 4097)])
def test_token_credentials_are_bounded(anon_client, field, length):
    UserFactory(username="alice")
    credentials = {"username": "alice", "password": "s3cret-Passw0rd", field: "x" * length}

    response = anon_client.post(TOKEN_URL, credentials)

    assert errors_by_attr(response, 400) == {field: {"max_length"}}
    assert not Token.objects.exists()


def test_token_for_an_inactive_user_is_401(anon_client):
    UserFactory(username="idle", is_active=False)

    assert_authentication_failed(anon_client.post(TOKEN_URL, {"username": "idle", "password": "s3cret-Passw0rd"}))
    assert not Token.objects.exists()


def test_schema_documents_the_token_endpoints_401(anon_client):
    operation = anon_client.get("/api/schema/", {"format": "json"}).json()["paths"][TOKEN_URL]["post"]
    assert {"200", "400", "401"} <= set(operation["responses"])
    assert operation["responses"]["401"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse401")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"username": "alice"}, {"password": {"required"}}),
        ({"username": "", "password": "x"}, {"username": {"blank"}}),
    ],
)
def test_token_with_an_incomplete_body_stays_400(anon_client, body, expected):
    assert errors_by_attr(anon_client.post(TOKEN_URL, body), 400) == expected


def test_token_with_missing_credentials_lists_both_fields(anon_client):
    response = anon_client.post(TOKEN_URL, {})

    assert errors_by_attr(response, 400) == {"username": {"required"}, "password": {"required"}}


def test_me_without_credentials_is_401_not_authenticated(anon_client):
    assert_client_error(anon_client.get(ME_URL), 401, "not_authenticated")


@pytest.mark.parametrize("header", ["Token not-a-real-key", "Token ", "Bearer abc", "Token a b"])
def test_me_with_bad_token_is_401(anon_client, header):
    anon_client.credentials(HTTP_AUTHORIZATION=header)

    response = anon_client.get(ME_URL)

    assert response.status_code == 401
    code = errors_by_attr(response, 401, "client_error")[None]
    # "Bearer" is not our scheme, so the request is simply unauthenticated.
    assert code == ({"not_authenticated"} if header.startswith("Bearer") else {"authentication_failed"})


# ---- the caller's profile --------------------------------------------------------------------------


def test_me_returns_the_callers_profile(customer_client, customer):
    response = customer_client.get(ME_URL)

    assert response.status_code == 200
    assert response.json() == {
        "id": str(customer.pk),
        "username": customer.username,
        "email": customer.email,
        "display_name": customer.display_name,
        "phone": customer.phone,
        "is_staff": False,
    }


def test_me_patch_updates_profile_fields(customer_client, customer):
    response = customer_client.patch(
        ME_URL, {"email": "new@example.com", "display_name": "New Name", "phone": "+4470000000"}
    )

    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": str(customer.pk),
        "username": customer.username,
        "email": "new@example.com",
        "display_name": "New Name",
        "phone": "+4470000000",
        "is_staff": False,
    }
    customer.refresh_from_db()
    assert (customer.email, customer.display_name, customer.phone) == ("new@example.com", "New Name", "+4470000000")


def test_me_patch_of_one_field_leaves_the_others(customer_client, customer):
    email, phone = customer.email, customer.phone

    response = customer_client.patch(ME_URL, {"display_name": "Only This"})

    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.email, customer.display_name, customer.phone) == (email, "Only This", phone)


def test_me_patch_cannot_change_username_or_grant_staff(customer_client, customer):
    username = customer.username

    response = customer_client.patch(ME_URL, {"username": "hijack", "is_staff": True, "is_superuser": True})

    assert response.status_code == 200
    assert response.json()["is_staff"] is False
    customer.refresh_from_db()
    assert customer.username == username
    assert not customer.is_staff and not customer.is_superuser


def test_me_patch_with_over_long_values_reports_each_and_changes_nothing(customer_client, customer):
    before = (customer.email, customer.display_name, customer.phone)

    response = customer_client.patch(
        ME_URL, {"email": "a" * 250 + "@example.com", "display_name": "d" * 151, "phone": "1" * 33}
    )

    assert set(errors_by_attr(response, 400)) == {"email", "display_name", "phone"}
    customer.refresh_from_db()
    assert (customer.email, customer.display_name, customer.phone) == before


def test_me_patch_with_invalid_email_is_rejected(customer_client):
    assert set(errors_by_attr(customer_client.patch(ME_URL, {"email": "nope"}), 400)) == {"email"}


def test_me_patch_to_another_users_email_in_any_case_is_rejected(customer_client, customer):
    UserFactory(email="taken@example.com")
    email = customer.email

    response = customer_client.patch(ME_URL, {"email": "TAKEN@example.com"})

    assert errors_by_attr(response, 400) == {"email": {"unique"}}
    customer.refresh_from_db()
    assert customer.email == email


def test_me_patch_reports_taken_email_together_with_other_problems(customer_client):
    UserFactory(email="taken@example.com")

    response = customer_client.patch(ME_URL, {"email": "taken@example.com", "phone": "1" * 33})

    assert errors_by_attr(response, 400) == {"email": {"unique"}, "phone": {"max_length"}}


def test_me_patch_may_change_the_case_of_ones_own_email(customer_client, customer):
    response = customer_client.patch(ME_URL, {"email": customer.email.upper()})

    assert response.status_code == 200, response.content
    customer.refresh_from_db()
    assert customer.email == customer.email.upper()


def test_me_patch_without_credentials_is_401(anon_client):
    assert_client_error(anon_client.patch(ME_URL, {"display_name": "x"}), 401, "not_authenticated")


# ---- staff: list and search -------------------------------------------------------------------------


def test_staff_lists_users_paginated(staff_client, staff):
    UserFactory.create_batch(3)

    response = staff_client.get(USERS_URL, {"limit": 2})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 4
    assert body["previous"] is None
    assert "offset=2" in body["next"]
    assert len(body["results"]) == 2
    assert all(set(user) == USER_FIELDS for user in body["results"])

    rest = staff_client.get(body["next"]).json()
    assert rest["next"] is None
    seen = [user["id"] for user in body["results"] + rest["results"]]
    assert sorted(seen) == sorted(str(user.pk) for user in User.objects.all())


@pytest.mark.parametrize("search", ["zebra", "ZEBRA@Zoo", "Stripes"])
def test_staff_searches_users_by_username_email_or_display_name(staff_client, search):
    target = UserFactory(username="zebra_one", email="zebra@zoo.example", display_name="Mr Stripes")
    UserFactory(username="lion", email="lion@zoo.example", display_name="King")

    response = staff_client.get(USERS_URL, {"search": search})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["results"] == [
        {
            "id": str(target.pk),
            "username": "zebra_one",
            "email": "zebra@zoo.example",
            "display_name": "Mr Stripes",
            "phone": target.phone,
            "is_staff": False,
        }
    ]


def test_staff_search_with_a_null_character_is_400_not_500(staff_client):
    response = staff_client.get(USERS_URL, {"search": "ze\x00bra"})

    assert errors_by_attr(response, 400) == {"search": {"null_characters_not_allowed"}}


def test_customer_cannot_list_users(customer_client):
    assert_client_error(customer_client.get(USERS_URL), 403, "permission_denied")


def test_anonymous_cannot_list_users(anon_client):
    assert_client_error(anon_client.get(USERS_URL), 401, "not_authenticated")


# ---- staff: deactivation ------------------------------------------------------------------------------


def test_staff_deactivates_user_who_then_cannot_authenticate(staff_client):
    user = UserFactory(username="leaving")
    victim_client = client_for(user)
    assert victim_client.get(ME_URL).status_code == 200

    response = staff_client.post(deactivate_url(user.pk))

    assert response.status_code == 200, response.content
    assert response.json()["id"] == str(user.pk)
    user.refresh_from_db()
    assert user.is_active is False
    assert user.deleted_at is not None
    # The token they already hold stops working at once ...
    assert victim_client.get(ME_URL).status_code == 401
    # ... and they cannot get a new one.
    relogin = APIClient().post(TOKEN_URL, {"username": "leaving", "password": "s3cret-Passw0rd"})
    assert_authentication_failed(relogin)
    assert not Token.objects.filter(user=user).exists()


def test_user_soft_deleted_outside_the_api_cannot_authenticate(anon_client):
    """Support staff may set deleted_at in the admin; that alone must lock the user out."""
    user = UserFactory(username="gone")
    victim_client = client_for(user)
    user.deleted_at = timezone.now()
    user.save(update_fields=["deleted_at"])

    assert victim_client.get(ME_URL).status_code == 401
    assert_authentication_failed(anon_client.post(TOKEN_URL, {"username": "gone", "password": "s3cret-Passw0rd"}))
    user.refresh_from_db()
    assert user.is_active is False


def test_deactivation_leaves_the_users_orders_unchanged(staff_client):
    user = UserFactory(display_name="Frozen Name", email="frozen@example.com")
    order = make_order(user=user)
    before = staff_client.get(f"/api/v1/orders/{order.pk}/")
    assert before.status_code == 200
    assert before.json()["customer"] == {
        "user_id": str(user.pk),
        "display_name": "Frozen Name",
        "email": "frozen@example.com",
        "phone": user.phone,
    }

    assert staff_client.post(deactivate_url(user.pk)).status_code == 200

    after = staff_client.get(f"/api/v1/orders/{order.pk}/")
    assert after.status_code == 200
    assert after.json() == before.json()


def test_deactivating_twice_keeps_the_first_deletion_time(staff_client):
    user = UserFactory()
    assert staff_client.post(deactivate_url(user.pk)).status_code == 200
    user.refresh_from_db()
    first = user.deleted_at

    assert staff_client.post(deactivate_url(user.pk)).status_code == 200

    user.refresh_from_db()
    assert user.deleted_at == first


def test_deactivating_unknown_user_is_404(staff_client):
    assert_client_error(staff_client.post(deactivate_url(uuid.uuid4())), 404, "not_found")


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "123", "me"])
def test_deactivating_with_a_non_uuid_id_is_404(staff_client, bad_id):
    response = staff_client.post(deactivate_url(bad_id))

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_staff_cannot_deactivate_themselves(staff, staff_client):
    assert_client_error(staff_client.post(deactivate_url(staff.pk)), 403, "permission_denied")
    staff.refresh_from_db()
    assert staff.is_active and staff.deleted_at is None


def test_customer_cannot_deactivate_anyone(customer_client):
    other = UserFactory()

    assert_client_error(customer_client.post(deactivate_url(other.pk)), 403, "permission_denied")
    other.refresh_from_db()
    assert other.is_active and other.deleted_at is None


def test_anonymous_cannot_deactivate(anon_client):
    other = UserFactory()

    assert_client_error(anon_client.post(deactivate_url(other.pk)), 401, "not_authenticated")
    other.refresh_from_db()
    assert other.is_active


def test_staff_user_cannot_deactivate_via_get(staff_client):
    other = StaffFactory()

    response = staff_client.get(deactivate_url(other.pk))

    assert response.status_code == 405
    other.refresh_from_db()
    assert other.is_active


# ---- one permission model (issue #13, item 2): the API asks the admin's Django permissions


def superuser() -> User:
    return StaffWithoutPermissionsFactory(is_superuser=True)


@pytest.mark.parametrize("actor_factory", [StaffFactory, SupportFactory, StaffWithoutPermissionsFactory])
def test_only_a_superuser_deactivates_a_superuser(actor_factory):
    """Not even staff who may change users (StaffFactory holds users.change_user) can lock the owners out."""
    root = superuser()
    root_token = TokenFactory(user=root).key

    response = client_for(actor_factory()).post(deactivate_url(root.pk))

    assert_client_error(response, 403, "permission_denied")
    root.refresh_from_db()
    assert root.is_active and root.deleted_at is None
    assert Token.objects.filter(key=root_token).exists()


def test_a_superuser_deactivates_another_superuser():
    other_root = superuser()

    response = client_for(superuser()).post(deactivate_url(other_root.pk))

    assert response.status_code == 200, response.content
    other_root.refresh_from_db()
    assert other_root.is_active is False


def test_the_service_refuses_a_superuser_to_a_non_superuser_actor():
    root = superuser()
    with pytest.raises(ApplicationError) as refused:
        services.user_deactivate(user=root, actor=StaffFactory())
    assert refused.value.kind == ErrorKind.FORBIDDEN
    assert services.user_deactivate(user=root, actor=superuser()).is_active is False


@pytest.mark.parametrize(("actor_factory", "allowed"), [(StaffFactory, True), (SupportFactory, False)])
def test_deactivation_needs_the_change_user_permission(actor_factory, allowed):
    """Support may view users in the admin but not change them: the API says the same."""
    user = UserFactory()

    response = client_for(actor_factory()).post(deactivate_url(user.pk))

    assert response.status_code == (200 if allowed else 403), response.content
    user.refresh_from_db()
    assert user.is_active is not allowed


def test_staff_without_permissions_run_no_staff_endpoint():
    client = client_for(StaffWithoutPermissionsFactory())
    user = UserFactory()

    assert_client_error(client.get(USERS_URL), 403, "permission_denied")
    assert_client_error(client.post(deactivate_url(user.pk)), 403, "permission_denied")
    assert_client_error(client.get(f"{USERS_URL}{user.pk}/order-summary/"), 403, "permission_denied")
    user.refresh_from_db()
    assert user.is_active


def test_admin_deactivate_action_refuses_a_superuser_to_a_non_superuser(client):
    root, user = superuser(), UserFactory()
    client.force_login(StaffFactory())

    response = client.post(
        "/admin/users/user/", {"action": "deactivate_users", ACTION_CHECKBOX_NAME: [root.pk, user.pk], "index": 0}
    )

    assert response.status_code == 302
    messages = [str(message) for message in get_messages(response.wsgi_request)]
    assert f"{root.username}: Only a superuser can deactivate a superuser." in messages
    assert "1 user(s) deactivated." in messages
    root.refresh_from_db()
    user.refresh_from_db()
    assert root.is_active is True and user.is_active is False


def test_admin_non_superusers_cannot_change_a_superuser(client):
    """Whoever may change users could otherwise set a superuser's password or email and take it over."""
    root = superuser()
    client.force_login(StaffFactory())

    assert client.get(f"/admin/users/user/{root.pk}/password/").status_code == 403
    page = client.get(f"/admin/users/user/{root.pk}/change/")
    assert page.status_code == 200  # read-only: StaffFactory may view users
    assert page.context["has_change_permission"] is False
    customer = UserFactory()
    assert client.get(f"/admin/users/user/{customer.pk}/password/").status_code == 200
