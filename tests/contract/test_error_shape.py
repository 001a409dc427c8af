"""Every client error has the contract's one shape; `attr` is a path into the body or null."""

import pytest


@pytest.mark.django_db
def test_bad_credentials_point_at_no_field(anon_client):
    response = anon_client.post("/api/v1/auth/token/", {"username": "nobody", "password": "wrong"})
    assert response.status_code == 401
    assert response.json() == {
        "type": "client_error",
        "errors": [
            {"code": "authentication_failed", "detail": "Unable to log in with provided credentials.", "attr": None}
        ],
    }


@pytest.mark.django_db
def test_a_body_that_is_not_an_object_points_at_no_field(customer_client):
    response = customer_client.post("/api/v1/orders/", [1, 2], format="json")
    assert response.status_code == 400
    assert [error["attr"] for error in response.json()["errors"]] == [None]


@pytest.mark.django_db
def test_a_nested_object_of_the_wrong_type_points_at_itself(customer_client):
    response = customer_client.post(
        "/api/v1/orders/", {"items": ["x"], "shipping_address": "nowhere", "payment_method": "paypal"}, format="json"
    )
    assert response.status_code == 400
    assert {error["attr"] for error in response.json()["errors"]} == {"items.0", "shipping_address"}
