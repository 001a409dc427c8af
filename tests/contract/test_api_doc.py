"""docs/API.md, the repository's contract document, and the OpenAPI schema name the same endpoints: every
operation of the schema is in the document, and every `METHOD /api/v1/...` of the document is in the schema.
The README points at docs/API.md (a user of the repository has no shared/)."""

import re
from pathlib import Path

from drf_spectacular.generators import SchemaGenerator

ROOT = Path(__file__).resolve().parents[2]
METHODS = ("get", "post", "put", "patch", "delete")
DOCUMENTED = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE) (/api/v1/[^\s`?]*)")


def normalized(path: str) -> str:
    """Path parameters by position, not name: the document's {id} is the schema's {key}."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def schema_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method.upper(), normalized(path))
        for path, operations in schema["paths"].items()
        for method in operations
        if method in METHODS
    }


def documented_operations() -> set[tuple[str, str]]:
    text = (ROOT / "docs" / "API.md").read_text()
    return {(method, normalized(path)) for method, path in DOCUMENTED.findall(text)}


def test_every_schema_operation_is_documented():
    operations = schema_operations()
    assert len(operations) > 20
    assert sorted(operations - documented_operations()) == []


def test_every_documented_operation_is_in_the_schema():
    assert sorted(documented_operations() - schema_operations()) == []


def test_the_readme_points_at_the_repositorys_own_contract():
    readme = (ROOT / "README.md").read_text()
    assert "docs/API.md" in readme
    assert "shared/" not in readme


def test_swagger_ui_sends_the_schema_to_no_outside_validator(client):
    # Swagger UI's default validatorUrl posts the schema to validator.swagger.io from any non-local host.
    page = client.get("/api/docs/").content.decode()
    assert '"validatorUrl": null' in page
