"""Assertions shared by the API tests."""


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
