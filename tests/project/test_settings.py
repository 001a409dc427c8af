"""The suite runs on order_project/settings/test.py (pytest.ini); a deployment on order_project.settings."""

from django.conf import settings

from order_project import settings as deployment
from order_project.settings import test as test_settings


def test_the_suite_runs_on_the_test_settings_with_names_of_its_own_run():
    run = f"tests-{test_settings.TEST_RUN}"
    assert settings.SETTINGS_MODULE == "order_project.settings.test"
    assert (settings.OUTBOX_RELAY_ON_COMMIT, settings.THROTTLE_ENABLED) == (False, False)
    assert settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]
    names = {
        "cache keys": settings.CACHES["default"]["KEY_PREFIX"],
        "task queue": settings.CELERY_TASK_DEFAULT_QUEUE,
        "control exchange": settings.CELERY_CONTROL_EXCHANGE,
        "events exchange": settings.EVENTS_EXCHANGE,
    }
    assert names == {"cache keys": run, "task queue": run, "control exchange": run, "events exchange": f"orders-{run}"}


def test_the_test_overrides_stay_out_of_the_deployments_settings():
    assert deployment.CACHES["default"]["KEY_PREFIX"] != settings.CACHES["default"]["KEY_PREFIX"]
    assert deployment.CELERY_TASK_DEFAULT_QUEUE == deployment.CELERY_QUEUE_PREFIX != settings.CELERY_TASK_DEFAULT_QUEUE
    assert not hasattr(deployment, "TEST_RUN")
