import logging
import logging.config
import os
from pathlib import Path

from celery import Celery
from celery.beat import PersistentScheduler
from celery.signals import setup_logging, task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "order_project.settings")

app = Celery("order_project")
# Every Celery setting lives in Django settings under the CELERY_ namespace.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _log_as_django_does(**kwargs) -> None:
    """Worker and beat log through Django's LOGGING (LOG_FORMAT, LOG_LEVEL, the request id of the request
    that queued the task) instead of Celery's own handlers and format."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    logging.captureWarnings(True)


@task_prerun.connect
@task_postrun.connect
def _recycle_database_connections(task=None, **kwargs) -> None:
    """Database connections outlive a task, as they outlive a web request: Django's own rules
    (CONN_MAX_AGE, CONN_HEALTH_CHECKS, errors) decide when one is dropped. Celery's Django fix-up
    would otherwise close it after every task (CELERY_DB_REUSE_MAX unset), and a new PostgreSQL
    connection cost more than a relay pass."""
    from django.db import close_old_connections

    if task is not None and task.request.is_eager:
        return  # run inline by its caller, inside the caller's own transaction

    close_old_connections()


class ScheduleInRunDirectory(PersistentScheduler):
    """Beat's own scheduler, creating the directory of its schedule file (.run/, CELERY_BEAT_SCHEDULE_FILENAME)
    before opening it."""

    def setup_schedule(self) -> None:
        Path(self.schedule_filename).parent.mkdir(parents=True, exist_ok=True)
        super().setup_schedule()
