"""gunicorn's settings wherever the service runs (scripts/run.sh, scripts/docker-web.sh, the Dockerfile pass
`--config gunicorn.conf.py`); the command lines add bind address and worker count."""

import os


def _env_flag(name: str) -> bool:
    # Read as order_project/settings.py's env_bool reads flags.
    return os.environ.get(name, "0").strip().lower() in {"1", "true", "yes", "on"}


# Which peers may make a request HTTPS with X-Forwarded-Proto (and gunicorn's other scheme headers):
# none unless TRUST_X_FORWARDED_PROTO is set, as for Django's SECURE_PROXY_SSL_HEADER. gunicorn's own
# default trusts 127.0.0.1, so any local client, or a local proxy that passes the client's header on,
# could pass for HTTPS (secure cookies, no SSL redirect).
forwarded_allow_ips = ""
if _env_flag("TRUST_X_FORWARDED_PROTO"):
    forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

