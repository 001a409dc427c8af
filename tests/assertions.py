"""Assertions, and the values they expect, shared by the tests."""

import json


def estimated_count(queryset, *, exact_up_to: int) -> int:
    """A list's count past `exact_up_to` rows: PostgreSQL's row estimate for it, never below the rows counted
    on the way (exact_up_to + 1); not the exact count."""
    plan_rows = json.loads(queryset.order_by().explain(format="json"))[0]["Plan"]["Plan Rows"]
    return max(int(plan_rows), exact_up_to + 1)


def errors_by_attr(response, status: int, error_type: str = "validation_error") -> dict[str, set[str]]:
    """Assert the contract's error shape and return {attr: {codes}}."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"type", "errors"}
    assert body["type"] == error_type
    assert body["errors"], body
    result: dict[str, set[str]] = {}
    for error in body["errors"]:
        assert set(error) == {"code", "detail", "attr"}
        assert error["detail"]
        result.setdefault(error["attr"], set()).add(error["code"])
    return result


def assert_client_error(response, status: int, code: str) -> None:
    assert errors_by_attr(response, status, "client_error") == {None: {code}}
