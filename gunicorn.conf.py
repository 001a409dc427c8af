"""gunicorn's settings wherever the service runs (scripts/run.sh and the Dockerfile, which docker-compose.yml uses, pass
`--config gunicorn.conf.py`); the command lines add bind address and worker count."""

import json
import logging
import os

from gunicorn import glogging, util

from core.request_id import HEADER as REQUEST_ID_HEADER
from order_project.logs import logging_config


def _env_flag(name: str) -> bool:
    # Read as order_project/settings/'s env_bool reads flags.
    return os.environ.get(name, "0").strip().lower() in {"1", "true", "yes", "on"}


# Which peers may make a request HTTPS with X-Forwarded-Proto (and gunicorn's other scheme headers):
# none unless TRUST_X_FORWARDED_PROTO is set, as for Django's SECURE_PROXY_SSL_HEADER. gunicorn's own
# default trusts 127.0.0.1, so any local client, or a local proxy that passes the client's header on,
# could pass for HTTPS (secure cookies, no SSL redirect).
forwarded_allow_ips = ""
if _env_flag("TRUST_X_FORWARDED_PROTO"):
    forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


# Worker recycling: a worker is replaced after MAX_REQUESTS requests, give or take a tenth (so the workers do
# not all restart at once), which bounds what a slow leak anywhere in the process can grow to. The master
# starts the new worker first and lets the old one finish its request (0 turns recycling off).
max_requests = int(os.environ.get("MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
# SIGTERM: workers stop taking new connections and finish the requests they hold, for at most this long.
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "10"))


# gunicorn's error and access logs in Django's format (LOG_FORMAT, LOG_LEVEL): one format on stderr for
# every process. Access lines without gunicorn's own timestamp (the log line has one).
logconfig_dict = logging_config()
logging.captureWarnings(True)  # Python's warnings too, instead of raw text between the log lines
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'


class RequestIdLogger(glogging.Logger):
    """Access lines carry the request id. gunicorn writes them after Django finished the request (and forgot
    its id), so the id is read from the response's X-Request-ID header, set by RequestIdMiddleware."""

    def access(self, resp, req, environ, request_time) -> None:
        header = REQUEST_ID_HEADER.lower()
        request_id = next((value for name, value in resp.headers if name.lower() == header), None)
        atoms = self.atoms_wrapper_class(self.atoms(resp, req, environ, request_time))
        self.access_log.info(self.cfg.access_log_format, atoms, extra={"request_id": request_id})


logger_class = RequestIdLogger


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's own answers (414 request line too long, 431 headers too large, 400 malformed request),
    written before Django sees the request, in the contract's error shape instead of an HTML page."""
    body = {
        "type": "client_error" if status_int < 500 else "server_error",
        "errors": [{"code": reason.lower().replace(" ", "_"), "detail": mesg or reason, "attr": None}],
    }
    payload = json.dumps(body).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + payload)


def on_starting(server) -> None:
    # gunicorn has no setting for its error page: its workers call util.write_error, so that is replaced
    # in the master, before the workers are forked.
    util.write_error = write_json_error
