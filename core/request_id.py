"""Request ids: every request gets one (the client's X-Request-ID if well-formed, else a new one). It is
returned in the response, written in every log line, and carried into the Celery tasks the request causes."""

import re
import uuid
from contextvars import ContextVar

from celery.signals import before_task_publish, task_postrun, task_prerun
from django.core.signals import request_finished
from django.dispatch import receiver

try:
    import uwsgi  # only inside uWSGI (order_project/serve.py), whose access line shows the request id
except ImportError:
    uwsgi = None

HEADER = "X-Request-ID"
_WELL_FORMED = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(HEADER, "")
        request_id = given if _WELL_FORMED.match(given) else uuid.uuid4().hex
        # Reset on request_finished, not here: Django logs the response after the middleware chain
        # returned, and that line must carry the id too.
        current_request_id.set(start_request_log(request_id))
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


def start_request_log(request_id: str) -> str:
    """`request_id`, also given to uWSGI for the request's access line (order_project/serve.py)."""
    if uwsgi is not None:
        uwsgi.set_logvar("request_id", request_id)
    return request_id


# receiver(), not @request_finished.connect: Django's connect() returns None, so the decorated name became
# None, the signal's weak reference to the function died, and the id stayed on every later log line.
@receiver(request_finished)
def _forget_request(**kwargs) -> None:
    current_request_id.set(None)


@before_task_publish.connect
def _send_request_id(headers=None, **kwargs) -> None:
    request_id = current_request_id.get()
    if request_id and headers is not None:
        headers.setdefault("request_id", request_id)


@task_prerun.connect
def _receive_request_id(task=None, **kwargs) -> None:
    if task is None:
        return
    request_id = getattr(task.request, "request_id", None)
    task.request.request_id_token = current_request_id.set(request_id)


@task_postrun.connect
def _forget_request_id(task=None, **kwargs) -> None:
    token = getattr(task.request, "request_id_token", None) if task else None
    if token is not None:
        current_request_id.reset(token)
