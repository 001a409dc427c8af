import gc
import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from core.request_limits import ChunkedBodyMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "order_project.settings")
application = ChunkedBodyMiddleware(get_wsgi_application())
# Everything loaded at startup (Django, DRF, the apps, and the URLconf with every view and serializer,
# which Django would otherwise import on the first request) lives as long as the worker: keep it out
# of the garbage collector's full collections, which otherwise walk it again and again.
import_module(settings.ROOT_URLCONF)
gc.freeze()
