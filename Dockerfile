# The order service image: web (uWSGI), Celery worker and beat all run from it (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=order_project.settings \
    PORT=8000 \
    WEB_CONCURRENCY=3

WORKDIR /app

# Runtime dependencies only (no pytest, ruff, schemathesis or Playwright: requirements-dev.txt); this layer
# is rebuilt only when requirements.txt changes (psycopg[binary] needs no libpq, pyuwsgi's wheel no compiler).
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files for the admin and the browsable API, served by WhiteNoise from the web server; .run/ is beat's
# (its schedule file), the one directory the app user writes.
RUN python manage.py collectstatic --noinput --verbosity 0 \
    && useradd --system --create-home --uid 10001 app \
    && mkdir .run && chown app .run

USER app
EXPOSE 8000

# order_project/serve.py: uWSGI on $PORT with WEB_CONCURRENCY processes.
CMD ["python", "-m", "order_project.serve"]
