import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "order_project.settings")
application = get_wsgi_application()
# Everything loaded so far (Django, DRF, the apps) lives as long as the worker: keep it out of the
# garbage collector's full collections, which otherwise walk it again and again while serving requests.
gc.freeze()
