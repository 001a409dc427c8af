"""Settings read from the environment (12-factor), with defaults that work on a developer machine.
The test suite runs on order_project/settings/test.py, these with its overrides."""

import hashlib
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from order_project.env import env_bool, env_int, env_list
from order_project.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent  # order_project/settings/__init__.py


DEBUG = env_bool("DEBUG", False)
# DJANGO_ENV=production turns on the HTTPS-only settings below and refuses to start with DEBUG or without a
# strong SECRET_KEY; development (make run, tests) works with no configuration at all. A misspelt value
# is an error: read as development it would quietly drop every production safeguard.
DJANGO_ENVIRONMENTS = ("development", "production")
DJANGO_ENV = os.environ.get("DJANGO_ENV") or "development"
if DJANGO_ENV not in DJANGO_ENVIRONMENTS:
    raise ImproperlyConfigured(f"DJANGO_ENV={DJANGO_ENV!r}: use one of {', '.join(DJANGO_ENVIRONMENTS)}.")
PRODUCTION = DJANGO_ENV == "production"
_DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"
# As long as Django's `check --deploy` asks for (security.W009).
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY = os.environ.get("SECRET_KEY") or ("" if PRODUCTION else _DEV_SECRET_KEY)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG is on with DJANGO_ENV=production: debug pages would show settings and code.")
if PRODUCTION and (len(SECRET_KEY) < SECRET_KEY_MIN_LENGTH or SECRET_KEY == _DEV_SECRET_KEY):
    raise ImproperlyConfigured(
        f"Set a random SECRET_KEY of at least {SECRET_KEY_MIN_LENGTH} characters in the environment: "
        "production never uses a short key or the development one."
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Browser clients on other origins (django-cors-headers): none unless listed. Only the API answers them; it
# authenticates with a token header, not cookies, so no credentials are allowed across origins.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/v1/"
CORS_ALLOW_HEADERS = ["accept", "authorization", "content-type", "idempotency-key", "x-request-id"]
CORS_EXPOSE_HEADERS = ["location", "x-request-id", "idempotent-replayed"]

INSTALLED_APPS = [
    "order_project.admin_site.AdminConfig",  # django.contrib.admin, secrets kept out of its filters
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc as static files: the docs pages need no CDN
    "drf_standardized_errors",
    "corsheaders",
    "core",
    "users",
    "products",
    "orders",
    "carts",
]

MIDDLEWARE = [
    "core.request_id.RequestIdMiddleware",
    # As high as django-cors-headers asks (before anything that may answer), after the request id so its
    # answers to preflights carry one too.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves collectstatic's output (admin, browsable API) from the web server, with DEBUG off too.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "order_project.urls"
WSGI_APPLICATION = "order_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "order_project" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/orders"),
        # Persistent connections: a new PostgreSQL connection per request costs more than the request.
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", True),
    )
}
# A reused connection's health check polls its socket instead of sending SELECT 1 on every request
# (core/postgresql/base.py).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "core.postgresql"
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 5)
# Parameters bound by PostgreSQL, and a statement run DB_PREPARE_THRESHOLD times on a connection prepared:
# PostgreSQL then stops parsing it, and, after five more runs, planning it wherever its generic plan costs
# no more than a plan for the actual values (plan_cache_mode auto). That was ~40 % of PostgreSQL's CPU per
# created order (docs/PERFORMANCE.md). Client-side binding (DB_SERVER_SIDE_BINDING=0) never prepares.
# 0 turns preparing off, e.g. behind PgBouncer before 1.22 or with max_prepared_statements = 0.
DATABASES["default"]["OPTIONS"]["server_side_binding"] = env_bool("DB_SERVER_SIDE_BINDING", True)
DATABASES["default"]["OPTIONS"]["prepare_threshold"] = env_int("DB_PREPARE_THRESHOLD", 5) or None
# One test database per checkout, so a fresh clone's test run never drops another checkout's database.
_checkout_tag = hashlib.sha1(str(BASE_DIR).encode()).hexdigest()[:8]
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME", f"test_orders_{_checkout_tag}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "users.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Admin dates and times: "2026-12-01 10:31:09 UTC" everywhere (order_project/formats/en/formats.py).
FORMAT_MODULE_PATH = "order_project.formats"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The browsable API's login (/api-auth/login/) without a ?next= lands on the API root, not /accounts/profile/.
LOGIN_REDIRECT_URL = "/api/v1/"

# Bounded request bodies: 1 MiB is far above the largest valid order (100 lines).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 1024 * 1024)

TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT is the number of proxies in front of the service: 0 or more.")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "users.authentication.GatewayAuthentication",
        "users.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "core.renderers.OrjsonRenderer",  # DRF's JSONRenderer's output, written by orjson
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # JSON only, nested at most 32 levels deep (core/request_limits.py).
    "DEFAULT_PARSER_CLASSES": ["core.request_limits.BoundedJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["core.filters.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "order_project.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "order_project.schema.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%S.%fZ",
    "DEFAULT_THROTTLE_RATES": {
        "order_create": os.environ.get("THROTTLE_RATE_ORDER_CREATE", "60/min"),
        "signup": os.environ.get("THROTTLE_RATE_SIGNUP", "20/hour"),
        "token": os.environ.get("THROTTLE_RATE_TOKEN", "30/min"),
    },
    # How many reverse proxies in front of us append to X-Forwarded-For. 0: the client is the peer address
    # and X-Forwarded-For is ignored (None would make DRF trust the whole header, which anyone can send).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
THROTTLE_ENABLED = env_bool("THROTTLE_ENABLED", True)
GATEWAY_AUTH_SECRET = os.environ.get("GATEWAY_AUTH_SECRET", "")

CACHES = {
    "default": {
        "BACKEND": "core.cache.RedisCache",  # Django's, keeping its redis-py client between calls
        "LOCATION": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "orders"),
        # Redis answers in a millisecond; a down or unreachable one must cost a request little (no retries).
        "OPTIONS": {
            "socket_connect_timeout": float(os.environ.get("CACHE_CONNECT_TIMEOUT", "0.25")),
            "socket_timeout": float(os.environ.get("CACHE_SOCKET_TIMEOUT", "0.5")),
        },
    }
}
# After a cache error, each process skips Redis this long (throttles count locally, core/circuit.py).
CACHE_CIRCUIT_SECONDS = float(os.environ.get("CACHE_CIRCUIT_SECONDS", "5"))

# HTTPS settings: on in production (check --deploy is clean), off for plain-HTTP development.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
# Health probes (Docker's, a load balancer's) speak plain HTTP to the container itself.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

DRF_STANDARDIZED_ERRORS = {
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    "EXCEPTION_FORMATTER_CLASS": "order_project.error_format.ContractExceptionFormatter",
    # Oversized bodies (DATA_UPLOAD_MAX_MEMORY_SIZE) are a 413 in the error shape, not a 500.
    "EXCEPTION_HANDLER_CLASS": "core.error_handler.BoundedInputExceptionHandler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Order service API",
    "DESCRIPTION": (
        "Orders with frozen snapshots, catalogue, users and order events. Authenticate with "
        "`Authorization: Token <token>` (get one from `POST /api/v1/auth/token/`). The request examples "
        "work against the demo data (`make seed`): log in as alice (customer) or admin (staff)."
    ),
    "TAGS": [
        {"name": "orders", "description": "Place, read, cancel and fulfil orders."},
        {"name": "cart", "description": "Your cart: lines checked against the catalogue, then ordered at once."},
        {"name": "returns", "description": "Return requests and their review."},
        {"name": "catalogue", "description": "Suppliers, products and their variants."},
        {"name": "users", "description": "Sign-up, your account, and customer accounts for staff."},
        {"name": "auth", "description": "API tokens."},
        {"name": "stats", "description": "Figures for staff."},
        {"name": "support", "description": "Staff's support tools: notes, timeline, email resend, snapshots, exports."},
    ],
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    # Swagger UI would otherwise send the schema to validator.swagger.io from any non-local host.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ValidationErrorEnum": "drf_standardized_errors.openapi_serializers.ValidationErrorEnum.choices",
        "ClientErrorEnum": "drf_standardized_errors.openapi_serializers.ClientErrorEnum.choices",
        "ServerErrorEnum": "drf_standardized_errors.openapi_serializers.ServerErrorEnum.choices",
        "ErrorCode401Enum": "drf_standardized_errors.openapi_serializers.ErrorCode401Enum.choices",
        "ErrorCode403Enum": "drf_standardized_errors.openapi_serializers.ErrorCode403Enum.choices",
        "ErrorCode404Enum": "drf_standardized_errors.openapi_serializers.ErrorCode404Enum.choices",
        "ErrorCode405Enum": "drf_standardized_errors.openapi_serializers.ErrorCode405Enum.choices",
        "ErrorCode406Enum": "drf_standardized_errors.openapi_serializers.ErrorCode406Enum.choices",
        "ErrorCode415Enum": "drf_standardized_errors.openapi_serializers.ErrorCode415Enum.choices",
        "ErrorCode429Enum": "drf_standardized_errors.openapi_serializers.ErrorCode429Enum.choices",
        "ErrorCode500Enum": "drf_standardized_errors.openapi_serializers.ErrorCode500Enum.choices",
        "OrderStatusEnum": "orders.models.OrderStatus.choices",
        "ProductStatusEnum": "products.models.ProductStatus.choices",
        "FulfillmentStatusEnum": "orders.models.FulfillmentStatus.choices",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "order_project.schema.postprocess_indexed_error_attrs",
    ],
}

# Celery: RabbitMQ, JSON only, a task is acknowledged only after it finished.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")


def celery_queue_names(prefix: str) -> dict[str, str]:
    """Celery's names for one deployment: its task queue, exchange and routing key, and the exchanges of its
    remote control (`<prefix>.pidbox`) and monitoring events. Deployments sharing a RabbitMQ virtual host
    with names of their own never take each other's tasks (nor answer each other's control commands)."""
    return {
        "task_default_queue": prefix,
        "task_default_exchange": prefix,
        "task_default_routing_key": prefix,
        "control_exchange": prefix,
        "event_exchange": f"{prefix}.events",
    }


# Per deployment: CELERY_QUEUE_PREFIX, else derived from the database name, as two deployments that share a
# database are one deployment. The events exchange (EVENTS_EXCHANGE) is the public contract, never prefixed.
CELERY_QUEUE_PREFIX = os.environ.get("CELERY_QUEUE_PREFIX") or f"orders-{DATABASES['default']['NAME']}"
globals().update({f"CELERY_{name.upper()}": value for name, value in celery_queue_names(CELERY_QUEUE_PREFIX).items()})
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True, "max_retries": 3}
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 120)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 100)
CELERY_TIMEZONE = "UTC"
# Celery's own forced reconnect every this many tasks; order_project/celery.py recycles connections by
# Django's rules before each task, as for a web request.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)
# Beat's state file, in the gitignored .run/ of the checkout (/app/.run in the image), wherever beat starts from.
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / ".run" / "celerybeat-schedule")
CELERY_BEAT_SCHEDULER = "order_project.celery:ScheduleInRunDirectory"  # creates .run/ if missing
CELERY_BEAT_SCHEDULE = {
    # The sweep: publishes events whose after-commit relay never ran (broker down, process died).
    "outbox-sweep": {"task": "orders.tasks.outbox_relay", "schedule": env_int("OUTBOX_SWEEP_SECONDS", 10)},
    "expire-pending-orders": {"task": "orders.tasks.expire_pending_orders", "schedule": 300},
    "purge-idempotency-keys": {"task": "orders.tasks.purge_idempotency_keys", "schedule": 3600},
}

# The broker the outbox relay publishes order events to (defaults to Celery's broker).
EVENTS_BROKER_URL = os.environ.get("EVENTS_BROKER_URL", CELERY_BROKER_URL)
EVENTS_BROKER_CONNECT_TIMEOUT = env_int("EVENTS_BROKER_CONNECT_TIMEOUT", 3)
EVENTS_EXCHANGE = os.environ.get("EVENTS_EXCHANGE", "orders")
# Queue a relay task right after each commit that wrote events (the beat sweep catches the rest).
OUTBOX_RELAY_ON_COMMIT = env_bool("OUTBOX_RELAY_ON_COMMIT", True)
# How long a queued relay is trusted to start before commits queue another one.
OUTBOX_RELAY_QUEUED_TTL_SECONDS = env_int("OUTBOX_RELAY_QUEUED_TTL_SECONDS", 5)
# How long a queued relay waits before it starts, gathering the commits of that moment into one batch:
# a relay pass costs about as much for one event as for twenty (the claim, the confirms, the update).
OUTBOX_RELAY_DELAY_SECONDS = float(os.environ.get("OUTBOX_RELAY_DELAY_SECONDS", "0.2"))
# Queueing that relay after commit: connect timeout, no retries; after a failure, commits skip the broker for
# this long and leave their events to the sweep, so a down broker does not hold every request for a timeout.
OUTBOX_RELAY_CONNECT_TIMEOUT = float(os.environ.get("OUTBOX_RELAY_CONNECT_TIMEOUT", "0.5"))
OUTBOX_RELAY_CIRCUIT_SECONDS = float(os.environ.get("OUTBOX_RELAY_CIRCUIT_SECONDS", "10"))
# Events the relay claims, publishes (each confirmed by the broker) and marks published in one transaction:
# a relay killed mid-run publishes again at most this many. Smaller costs more claims, updates and handler
# tasks: from 20 to 100, the relay's CPU per event fell by a fifth (docs/PERFORMANCE.md).
OUTBOX_BATCH_SIZE = env_int("OUTBOX_BATCH_SIZE", 100)
# With the backoff capped at 5 minutes, 300 attempts keep retrying through a day-long broker outage.
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 300)
OUTBOX_MAX_BACKOFF_SECONDS = env_int("OUTBOX_MAX_BACKOFF_SECONDS", 300)

# Order pricing rules.
ORDER_TAX_RATE_BASIS_POINTS = env_int("ORDER_TAX_RATE_BASIS_POINTS", 800)
ORDER_SHIPPING_CENTS = env_int("ORDER_SHIPPING_CENTS", 599)
ORDER_FREE_SHIPPING_FROM_CENTS = env_int("ORDER_FREE_SHIPPING_FROM_CENTS", 5000)
ORDER_PENDING_TTL = timedelta(seconds=env_int("ORDER_PENDING_TTL_SECONDS", 24 * 3600))
# Days after delivery during which a customer may ask to return items.
RETURN_WINDOW_DAYS = env_int("RETURN_WINDOW_DAYS", 30)

USER_SIGNUP_OPEN = env_bool("USER_SIGNUP_OPEN", True)

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Seconds a mail server may stall one socket operation: a hung server fails its emails (retried later)
# instead of holding a handler batch until Celery's hard time limit drops it.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "orders@example.com")

LOGGING = logging_config()  # LOG_FORMAT, LOG_LEVEL
