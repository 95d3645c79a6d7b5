"""Django settings, read from environment variables (see .env.example).

Nothing here is a secret or a machine path: the embedded SQLite database lives under
``var/`` in the project folder unless ``DATABASE_URL`` says otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("MDM_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set unless DEBUG=true (copy .env.example to .env and edit it)."
        )
    SECRET_KEY = "insecure-development-key-only-used-with-debug"

ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "golden",
    "matching",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "mdm.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

WSGI_APPLICATION = "mdm.wsgi.application"

if not os.environ.get("DATABASE_URL"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'mdm.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers queue for the database lock instead of failing at once, and every
    # transaction takes the write lock up front (no read-to-write upgrade deadlocks).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY; "
                "PRAGMA wal_autocheckpoint=20000;"
            ),
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and os.environ.get(
    "MDM_DB_PREPARE", "true"
).lower() not in ("0", "false", "no"):
    # Server-side prepared statements for the queries that ask for them (the ID lookup:
    # planning its join costs more than running it). Django's own cursors bind
    # parameters client-side and never prepare. Set MDM_DB_PREPARE=false behind a
    # connection pooler in transaction mode, which cannot keep prepared statements.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["api.renderers.FastJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.FastJSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.PerClientThrottle"],
    "DEFAULT_THROTTLE_RATES": {"client": os.environ.get("MDM_API_RATE", "200000/minute")},
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MDM API",
    "DESCRIPTION": (
        "Global IDs and cross-references of customers, materials and suppliers: lookup, "
        "registration, search, change feed and stewardship."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc from the installed package: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}
# How long an API key's state is remembered per process (a revoked key stops working
# within this many seconds in other processes, at once in the revoking one).
MDM_API_KEY_CACHE_SECONDS = float(os.environ.get("MDM_API_KEY_CACHE_SECONDS", "10"))
# Largest page of a list, and largest batch of one lookup call.
MDM_API_MAX_PAGE_SIZE = int(os.environ.get("MDM_API_MAX_PAGE_SIZE", "500"))
MDM_API_MAX_BATCH = int(os.environ.get("MDM_API_MAX_BATCH", "10000"))
# Largest request body, in bytes (a batch of 10,000 keys is well below).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("MDM_API_MAX_BODY_BYTES", str(5 * 1024**2)))

# Celery: without a broker every task runs in-process, so one machine needs nothing else.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Size of one import transaction (rows). Larger batches are faster, smaller ones hold
# locks for less time.
MDM_IMPORT_BATCH_SIZE = int(os.environ.get("MDM_IMPORT_BATCH_SIZE", "5000"))
# Largest import file accepted, in bytes (default 10 GB).
MDM_IMPORT_MAX_BYTES = int(os.environ.get("MDM_IMPORT_MAX_BYTES", str(10 * 1024**3)))
# Helper processes that read and validate the next import batches while the current
# one is written (each takes every N-th batch); 0: everything in-process. Small files
# stay in-process.
MDM_IMPORT_VALIDATION_WORKERS = int(os.environ.get("MDM_IMPORT_VALIDATION_WORKERS", "1"))
MDM_IMPORT_PARALLEL_MIN_BYTES = int(os.environ.get("MDM_IMPORT_PARALLEL_MIN_BYTES", "1000000"))
# An import job whose process runs on another host and has not reported progress for
# this long is taken to be gone, so that it can be resumed.
MDM_IMPORT_STALE_SECONDS = int(os.environ.get("MDM_IMPORT_STALE_SECONDS", "600"))
# The Celery queue that import jobs go to.
MDM_IMPORT_QUEUE = os.environ.get("MDM_IMPORT_QUEUE", "celery")
# Where files uploaded in the admin for import are kept.
MDM_IMPORT_UPLOAD_DIR = Path(os.environ.get("MDM_IMPORT_UPLOAD_DIR", VAR_DIR / "imports"))

# Matching thresholds per domain, overriding each domain's declared ones, as
# "domain:auto:review" items separated by commas (e.g. "customer:0.995:0.7").
MDM_MATCH_THRESHOLDS = {
    item.split(":")[0]: (float(item.split(":")[1]), float(item.split(":")[2]))
    for item in os.environ.get("MDM_MATCH_THRESHOLDS", "").replace(" ", "").split(",")
    if item
}
