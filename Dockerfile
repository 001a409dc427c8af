# The order service image: web (gunicorn), Celery worker and beat all run from it (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=order_project.settings \
    PORT=8000

WORKDIR /app

# Runtime dependencies only (no pytest, ruff, schemathesis or Playwright: requirements-dev.txt); this layer
# is rebuilt only when requirements.txt changes (psycopg[binary] needs no libpq).
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files for the admin and the browsable API, served by WhiteNoise from gunicorn; .run/ is beat's
# (its schedule file), the one directory the app user writes.
RUN python manage.py collectstatic --noinput --verbosity 0 \
    && useradd --system --create-home --uid 10001 app \
    && mkdir .run && chown app .run

USER app
EXPOSE 8000

CMD ["sh", "-c", "exec gunicorn order_project.wsgi:application --config gunicorn.conf.py --bind 0.0.0.0:${PORT} --workers ${WEB_CONCURRENCY:-3} --access-logfile - --no-control-socket"]
