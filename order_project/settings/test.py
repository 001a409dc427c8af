"""The test suite's settings (pytest.ini): the deployment's, with what a test run needs of its own.
A test that needs one of these on again turns it on through pytest-django's `settings` fixture."""

import uuid

from order_project.settings import *  # noqa: F403
from order_project.settings import CACHES, celery_queue_names

# Names of this run's own on the shared Redis and RabbitMQ: another checkout's run (CI next to a developer's)
# never sees this one's rate-limit counters, kept list counts, events or queued tasks.
TEST_RUN = uuid.uuid4().hex[:12]

# Most tests look at outbox rows, not the broker, and place many orders quickly: the after-commit relay and
# throttling are off unless a test turns them on (tests/orders/events/test_events.py,
# tests/project/test_security.py, ...).
OUTBOX_RELAY_ON_COMMIT = False
THROTTLE_ENABLED = False
# PBKDF2's many rounds cost most of a second per user; no test depends on the hasher's strength.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {**CACHES["default"], "KEY_PREFIX": f"tests-{TEST_RUN}"}}
EVENTS_EXCHANGE = f"orders-tests-{TEST_RUN}"
# Tasks queued by tests go to this run's own queue (deleted at the end by conftest.py), never to a developer's worker.
CELERY_QUEUE_PREFIX = f"tests-{TEST_RUN}"
globals().update({f"CELERY_{name.upper()}": value for name, value in celery_queue_names(CELERY_QUEUE_PREFIX).items()})
