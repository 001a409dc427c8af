import gc
import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from core.request_limits import RequestBoundsMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "order_project.settings")


def scheme_of_the_connection(application):
    """uWSGI's HTTP socket takes wsgi.url_scheme from any client's X-Forwarded-Proto. The scheme is the
    connection's own (plain HTTP: TLS ends at a proxy), and only Django's SECURE_PROXY_SSL_HEADER, with
    TRUST_X_FORWARDED_PROTO, lets a proxy's X-Forwarded-Proto make a request HTTPS."""

    def with_connection_scheme(environ, start_response):
        environ["wsgi.url_scheme"] = "https" if environ.get("HTTPS") == "on" else "http"
        return application(environ, start_response)

    return with_connection_scheme


application = scheme_of_the_connection(RequestBoundsMiddleware(get_wsgi_application()))
# Everything loaded at startup (Django, DRF, the apps, and the URLconf with every view and serializer,
# which Django would otherwise import on the first request) lives as long as the worker: keep it out
# of the garbage collector's full collections, which otherwise walk it again and again.
import_module(settings.ROOT_URLCONF)
gc.freeze()
