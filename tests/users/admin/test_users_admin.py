"""Users in the admin: deactivation through the service, search, case-insensitive emails."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from rest_framework.authtoken.models import Token

from tests.assertions import delete_status, follow_messages, order_state
from tests.factories import (
    TokenFactory,
    UserFactory,
    make_order,
)
from users import admin as users_admin
from users.models import User

pytestmark = pytest.mark.django_db

pytestmark = pytest.mark.django_db


def test_deactivate_users_action_handles_a_bounded_number_at_once(admin_client, monkeypatch):
    monkeypatch.setattr(users_admin, "MAX_USERS_PER_ACTION", 2)
    users = UserFactory.create_batch(3)

    response = admin_client.post(
        "/admin/users/user/",
        {"action": "deactivate_users", ACTION_CHECKBOX_NAME: [user.pk for user in users], "index": 0},
        follow=True,
    )

    assert sorted(User.objects.filter(pk__in=[u.pk for u in users]).values_list("is_active", flat=True)) == [
        False,
        False,
        True,
    ]
    assert "Only the first 2 selected users were handled" in response.content.decode()


def test_deactivate_users_action(admin_client, superuser):
    user = UserFactory()
    TokenFactory(user=user)
    order = make_order(user=user)
    order_before = order_state(order)

    response = admin_client.post(
        "/admin/users/user/",
        {"action": "deactivate_users", ACTION_CHECKBOX_NAME: [user.pk, superuser.pk], "index": 0},
    )

    messages = follow_messages(admin_client, response)
    assert "1 user(s) deactivated." in messages
    assert f"{superuser.username}: You cannot deactivate your own account." in messages  # the service's refusal
    user.refresh_from_db()
    superuser.refresh_from_db()
    assert user.is_active is False and user.deleted_at is not None
    assert not Token.objects.filter(user=user).exists()
    assert superuser.is_active is True
    assert order_state(order) == order_before
    assert delete_status(admin_client, "users_user", user.pk) == 403


def test_user_admin_search(admin_client):
    found = UserFactory(username="findme", email="findme@example.com", display_name="Find Me")
    UserFactory(username="someone", email="someone@example.com", display_name="Someone Else")
    response = admin_client.get("/admin/users/user/", {"q": "Find Me"})
    assert list(response.context["cl"].result_list) == [found]
    assert "findme@example.com" in response.content.decode()


@pytest.mark.django_db
def test_an_email_taken_in_another_case_is_a_form_error_not_a_500(client):
    admin_user = User.objects.create_superuser("root2", "root2@example.com", "pw-Root-2-secret")
    UserFactory(email="taken@example.com")
    target = UserFactory()
    client.force_login(admin_user)
    url = f"/admin/users/user/{target.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({"email": "TAKEN@example.com", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"})
    data = {k: v for k, v in data.items() if k not in ("groups", "user_permissions", "password")}

    response = client.post(url, data)

    assert response.status_code == 200  # the form again, with the error
    assert "already" in str(response.context["adminform"].form.errors["email"])
    target.refresh_from_db()
    assert target.email != "TAKEN@example.com"
