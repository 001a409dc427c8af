"""docker-compose.yml, read as Docker Compose reads it (YAML merge keys resolved; Docker itself is not
available here): a one-shot migrate service gates web, worker and beat; every service lists its own
dependency conditions; ports on 127.0.0.1 only; no demo accounts unless asked; Mailpit takes the mail; and
the web healthcheck's plain-HTTP /health/ is not redirected under DJANGO_ENV=production."""

import re
from pathlib import Path

import pytest
import yaml

from tests.live_server import live_server, send
from tests.project.test_production_settings import STRONG_KEY

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "web", "worker", "beat")
DEPENDENCIES = {"postgres", "rabbitmq", "redis"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def default_of(value: str) -> str:
    """`${NAME:-default}` as Compose reads it with NAME unset."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value))


def test_migrate_runs_once_and_web_worker_and_beat_wait_for_it(services):
    migrate = services["migrate"]
    assert migrate["restart"] == "no"
    assert "migrate" in (ROOT / migrate["command"][0]).read_text()
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
        assert "migrate" not in str(services[name].get("command", "")), name


def test_every_app_service_keeps_explicit_conditions_on_all_its_dependencies(services):
    for name in ("web", "worker", "beat"):
        depends_on = services[name]["depends_on"]
        assert isinstance(depends_on, dict), name  # the long form: a bare list has no conditions
        assert set(depends_on) >= DEPENDENCIES | {"migrate"}, name
        for dependency in DEPENDENCIES:
            assert depends_on[dependency] == {"condition": "service_healthy"}, (name, dependency)


def test_postgres_is_ready_only_once_it_listens_on_tcp(services):
    check = " ".join(services["postgres"]["healthcheck"]["test"])
    assert "pg_isready -h 127.0.0.1" in check


def test_every_published_port_is_bound_to_127_0_0_1(services):
    published = [(name, port) for name, service in services.items() for port in service.get("ports", [])]
    assert published
    for name, port in published:
        assert default_of(port).startswith("127.0.0.1:"), (name, port)


def test_demo_seeding_is_off_by_default(services):
    for name in APP_SERVICES:
        assert default_of(services[name]["environment"]["SEED_DEMO"]) == "0", name


def test_mail_goes_to_mailpit(services):
    assert services["mailpit"]["image"].startswith("axllent/mailpit:")
    environment = services["worker"]["environment"]
    assert environment["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (default_of(environment["EMAIL_HOST"]), default_of(environment["EMAIL_PORT"])) == ("mailpit", "1025")
    assert services["worker"]["depends_on"]["mailpit"] == {"condition": "service_healthy"}


def test_each_deployment_has_its_own_celery_queue(services):
    for name in APP_SERVICES:
        assert default_of(services[name]["environment"]["CELERY_QUEUE_PREFIX"]) == "orders-compose"


def test_beat_keeps_its_schedule_out_of_the_checkout(services):
    command = " ".join(services["beat"]["command"])
    assert "--schedule" not in command or "--schedule .run/" in command
    assert "mkdir .run && chown app .run" in (ROOT / "Dockerfile").read_text()


def test_the_web_healthcheck_probes_health_over_plain_http(services):
    check = " ".join(services["web"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/health/" in check


@pytest.mark.django_db
def test_health_is_not_redirected_to_https_under_production_settings():
    with live_server(DJANGO_ENV="production", SECRET_KEY=STRONG_KEY, DEBUG="0") as server:
        health = send(server, "GET", "/health/")
        orders = send(server, "GET", "/api/v1/orders/")

    assert health.status_code == 200, health.content
    assert health.json()["checks"]["database"] == "ok"
    assert orders.status_code == 301  # everything else still goes to https
