"""One log format end to end: Django (settings.LOGGING), the web server's own lines (order_project/serve.py) and
Celery's worker and beat (order_project.celery) all log through `logging_config`: LOG_FORMAT=json, one object per
line, or plain text, both with UTC timestamps to the millisecond and the request id."""

import json
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime

from core.request_id import current_request_id

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def log_time(record: logging.LogRecord) -> str:
    """ISO 8601 in UTC with milliseconds: 2026-12-01T10:31:50.123Z."""
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class PlainFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(PLAIN_FORMAT)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return log_time(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": log_time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class RequestIdFilter(logging.Filter):
    """The id of the request being served (or of the request that queued the running task); a record that
    brings its own (the web server's access line, logged after the request) keeps it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id.get()
        return True


SWEEP_TASK = "orders.tasks.outbox_relay"


class IdleSweepFilter(logging.Filter):
    """The outbox sweep runs every few seconds (beat's `outbox-sweep`) and almost always finds nothing: beat
    sending it, a worker receiving it and the run that published nothing are DEBUG lines, not INFO ones.
    A relay that published events still says so at INFO (its return value is how many)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not self._is_idle_sweep(record):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)

    @staticmethod
    def _is_idle_sweep(record: logging.LogRecord) -> bool:
        args = record.args
        if record.name == "celery.beat":  # "Scheduler: Sending due task %s (%s)", entry name and task
            return isinstance(args, tuple) and SWEEP_TASK in args
        if not isinstance(args, Mapping) or args.get("name") != SWEEP_TASK:
            return False
        if record.name == "celery.worker.strategy":  # "Task %(name)s[%(id)s] received"
            return True
        return record.name == "celery.app.trace" and str(args.get("return_value")) == "0"  # succeeded


class ConsoleHandler(logging.StreamHandler):
    """stderr, or the file descriptor LOG_FD where the process was given one: order_project/serve.py passes
    the web server's processes a copy of its own stderr, so the application's lines bypass uWSGI's output."""

    def __init__(self) -> None:
        log_fd = os.environ.get("LOG_FD")
        super().__init__(os.fdopen(int(log_fd), "w", buffering=1, closefd=False) if log_fd else None)


def logging_config() -> dict:
    """The dictConfig of every process, from LOG_FORMAT (json, plain) and LOG_LEVEL: one console handler
    on the root logger; the web server's and Celery's loggers propagate to it."""
    log_format, level = os.environ.get("LOG_FORMAT", "json"), os.environ.get("LOG_LEVEL", "INFO")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "order_project.logs.RequestIdFilter"},
            "idle_sweep": {"()": "order_project.logs.IdleSweepFilter"},
        },
        "formatters": {
            "json": {"()": "order_project.logs.JsonFormatter"},
            "plain": {"()": "order_project.logs.PlainFormatter"},
        },
        "handlers": {
            "console": {
                "()": "order_project.logs.ConsoleHandler",
                "filters": ["request_id", "idle_sweep"],
                "formatter": log_format,
            }
        },
        "root": {"handlers": ["console"], "level": level},
    }
