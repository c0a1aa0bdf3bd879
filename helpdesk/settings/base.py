"""Settings shared by every environment.

Everything that differs between machines is read from the environment here, in one place, with defaults that
work on a developer's machine (local PostgreSQL with trust auth, local Redis).
"""

import os
import secrets
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from helpdesk.brokers import transport_options as broker_transport_options
from helpdesk.databases import BOTH_ALIASES, READ_ALIAS, WRITE_ALIAS, replica_alias

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"Set the {name} environment variable.")
    return value


def env_bool(name: str, default: bool) -> bool:
    return env(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


def env_secret(name: str) -> str:
    """A secret that must come from the environment (production): refuse to start without one, or with a blank."""
    value = env(name).strip()
    if not value:
        raise ImproperlyConfigured(f"Set the {name} environment variable (it is empty).")
    return value


def install_secret_key(path: Path) -> str:
    """SECRET_KEY from the environment, else a random one generated once for this installation into `path` (under
    var/, git-ignored, readable by its owner only). Never a key written in the code: one that everybody knows lets
    anyone sign cookies (sessions, messages) that this installation then trusts."""
    if os.environ.get("SECRET_KEY", "").strip():
        return os.environ["SECRET_KEY"]
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: of processes starting together (web, worker, beat), one writes the key and the others read it.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(50))
    for _ in range(50):  # the writer may be between its create and its write
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.02)
    raise ImproperlyConfigured(f"{path} is empty: delete it to have a new key generated, or set SECRET_KEY.")


# No default here: local, test and bench settings generate one per installation; production requires it.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = [h.strip() for h in env("ALLOWED_HOSTS", ".localhost,localhost,127.0.0.1").split(",") if h.strip()]


def _database(url: str) -> dj_database_url.DBConfig:
    config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    # Both aliases are schema-per-tenant: django-tenants' backend (see helpdesk/tenant_backend) sets search_path.
    config["ENGINE"] = "helpdesk.tenant_backend"
    config.setdefault("OPTIONS", {})["connect_timeout"] = 3
    return config


DATABASES = {
    WRITE_ALIAS: _database(env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpdesk")),
    READ_ALIAS: _database(env("REPORTING_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpdesk_reporting")),
}


def replica_databases(urls: str) -> dict[str, dj_database_url.DBConfig]:
    """REPORTING_REPLICA_URLS (comma-separated PostgreSQL URLs of streaming replicas of the reporting database) as
    aliases reporting_replica_1, 2, ...; a URL that is not one refuses to start, naming it (without its password)."""
    replicas = {}
    for number, url in enumerate((u.strip() for u in urls.split(",") if u.strip()), start=1):
        parts = urlsplit(url)
        shown = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
        try:
            port_ok = parts.port is None or parts.port > 0
        except ValueError:
            port_ok = False
        if parts.scheme not in {"postgres", "postgresql"} or not parts.hostname or not port_ok or not parts.path[1:]:
            raise ImproperlyConfigured(
                f"REPORTING_REPLICA_URLS: replica {number} ({shown!r}) is not a PostgreSQL URL such as "
                "postgres://user@host:5432/helpdesk_reporting"
            )
        config = _database(url)
        # A replica that does not answer quickly is skipped for the primary or another one (reporting.replicas).
        config["OPTIONS"]["connect_timeout"] = 1
        replicas[replica_alias(number)] = config
    return replicas


DATABASES.update(replica_databases(env("REPORTING_REPLICA_URLS", "")))
REPORTING_REPLICA_ALIASES = [alias for alias in DATABASES if alias not in BOTH_ALIASES]
# The reporting app lives in the `reporting` alias; its router must run before TenantSyncRouter, which refuses
# (silently) to migrate anything on an alias other than the tenant one.
DATABASE_ROUTERS = ["helpdesk.routers.ReportingRouter", "django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")

# --- Tenancy (django-tenants) ---------------------------------------------------------------------------------
TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_URLCONF = "helpdesk.urls_public"
# Nothing else points the reporting connection at the tenant: mirror every tenant switch of `default` onto it.
EXTRA_SET_TENANT_METHOD_PATH = "helpdesk.routers.mirror_tenant_to_reporting"
SHOW_PUBLIC_IF_NO_TENANT_FOUND = False
# One `SET search_path` per connection and tenant switch, not one before every query (2-5 ms of a staff page of
# ~12 queries here). Safe because the path is forgotten wherever PostgreSQL may have reverted it: a tenant
# switch, a close, a rollback, a rollback to a savepoint, a commit of a failed transaction (tests/tenants/
# test_isolation.py). Nothing of ours sets search_path by hand. Not safe behind a pooler in transaction mode,
# and neither is the per-query SET (see Deploying).
TENANT_LIMIT_SET_CALLS = True
# Releases: tenant schemas already up to date are skipped with one query per few hundred schemas; the rest are
# migrated by this many forked processes (tenants.migrating).
GET_EXECUTOR_FUNCTION = "tenants.migrating.get_executor"
TENANT_MULTIPROCESSING_MAX_PROCESSES = int(env("TENANT_MIGRATION_PROCESSES", str(min(os.cpu_count() or 2, 8))))
TENANT_MULTIPROCESSING_CHUNKS = 4

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # OpClass in index expressions (the staff list's trigram indexes)
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "knox",
    "axes",
    "complaints",
    "reporting",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

MIDDLEWARE = [
    "tenants.middleware.CaseInsensitiveTenantMiddleware",
    "tenants.middleware.TenantTimeZoneMiddleware",
    "helpdesk.metrics.RequestLatencyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "helpdesk.csp.HelpdeskCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]
ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "complaints.context_processors.navigation",
            ],
        },
    }
]

AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "helpdesk.access.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "complaints:list"
LOGOUT_REDIRECT_URL = "login"

# Behind how many reverse proxies the app runs: the client address is then the N-th from the right of
# X-Forwarded-For (helpdesk.client), for the login lockout and the API throttles alike. 0: X-Forwarded-For is ignored.
TRUSTED_PROXY_COUNT = int(env("TRUSTED_PROXY_COUNT", "0"))
# Bearer token for /metrics and /healthz's per-tenant details (helpdesk.ops). Production requires one.
METRICS_TOKEN = env("METRICS_TOKEN", "")
# Without a token, may /metrics answer clients on this machine? Only on a developer's machine (local and test
# settings): behind a proxy on the same host every client is loopback.
METRICS_TRUST_LOOPBACK = False

# Login throttling (django-axes): lock a username+client pair out for a while after repeated failures.
AXES_CLIENT_IP_CALLABLE = "helpdesk.client.client_ip"
AXES_USERNAME_CALLABLE = "helpdesk.client.login_username"
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(env("AXES_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"  # the default; each tenant's own zone is activated per request (Tenant.time_zone)
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT: Path | None = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- REST API ---------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header makes a missing login a 401 (session-only would say 403).
        "helpdesk.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "helpdesk.api.errors.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "helpdesk.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_RATES": {"token": env("TOKEN_RATE", "10/min")},
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
# API tokens are stored as salted digests (django-rest-knox) and expire.
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=float(env("API_TOKEN_TTL_DAYS", "30"))),
    "AUTH_HEADER_PREFIX": "Token",
}

# Content-Security-Policy (django-csp): no inline script or style, nothing from other origins.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SPECTACULAR_SETTINGS = {
    "TITLE": "Helpdesk API",
    "DESCRIPTION": "Complaints (write side) and reports (read side) of one tenant, selected by the host name.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"ComplaintStatusEnum": "complaints.models.Status"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "helpdesk.api.schema.add_error_responses",
    ],
}

# Dashboard figures are cached per tenant and query (reporting.figures_cache.figures_cached).
CACHES = {
    "default": {
        "BACKEND": "helpdesk.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "helpdesk",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}

# --- Celery -------------------------------------------------------------------------------------------------
# Redis (default) or RabbitMQ (amqp://user:password@host:5672/vhost); Redis stays needed either way (cache, the
# sweep's marks). See helpdesk.brokers and README "Choosing the broker".
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged once it returned, i.e. after the projector's reporting transaction committed; a worker
# killed mid-task leaves the message for another worker (RabbitMQ redelivers it when the connection drops).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TENANT_DATABASES = BOTH_ALIASES
# Publishing happens in on_commit after the complaint is safe; never block a request on a dead broker.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(CELERY_BROKER_URL)
# The worker reconnects to a returning broker within a second (helpdesk.celery.PromptReconnectConsumer).
CELERY_WORKER_CONSUMER = "helpdesk.celery:PromptReconnectConsumer"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Beat too reconnects to a returning broker within a second (helpdesk.celery.ReconnectingScheduler).
CELERY_BEAT_SCHEDULER = "helpdesk.celery:ReconnectingScheduler"
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / "var" / "celerybeat-schedule")

# --- Projections --------------------------------------------------------------------------------------------
PROJECTION_BATCH_SIZE = int(env("PROJECTION_BATCH_SIZE", "500"))
PROJECTION_MAX_ATTEMPTS = int(env("PROJECTION_MAX_ATTEMPTS", "4"))
PROJECTION_SWEEP_SECONDS = float(env("PROJECTION_SWEEP_SECONDS", "1.0"))
PROJECTION_STALE_SECONDS = float(env("PROJECTION_STALE_SECONDS", "2.0"))
# How often the sweep looks at every tenant, not only those marked on commit (see reporting.sweep).
PROJECTION_FULL_SWEEP_SECONDS = float(env("PROJECTION_FULL_SWEEP_SECONDS", "10"))
PROJECTION_LAG_WARNING_SECONDS = float(env("PROJECTION_LAG_WARNING_SECONDS", "10"))
# Dashboard figures are computed at most about once per DASHBOARD_MAX_AGE_SECONDS per tenant and query, however
# many managers look: younger cached figures are served even when events arrived since (the freshness target,
# 1 s); while one process recomputes older ones, the others serve them up to DASHBOARD_MAX_STALE_SECONDS (5 s).
DASHBOARD_MAX_AGE_SECONDS = 1.0
DASHBOARD_MAX_STALE_SECONDS = 5.0
# How often an open dashboard asks whether its figures moved (static/js/dashboard-live.js; unchanged: a 304).
DASHBOARD_POLL_SECONDS = float(env("DASHBOARD_POLL_SECONDS", "5"))
if not DASHBOARD_POLL_SECONDS >= 1:
    raise ImproperlyConfigured("DASHBOARD_POLL_SECONDS must be at least 1 (seconds between an open dashboard's polls).")
# Dashboards, CSVs and the report API read a replica (REPORTING_REPLICA_URLS) only while it replays within this many
# seconds of the primary (default: the freshness target); otherwise another replica, or the primary, answers. A
# replica that failed (down, refused, promoted) is tried again REPORTING_REPLICA_RETRY_SECONDS later.
REPORTING_REPLICA_MAX_LAG_SECONDS = float(env("REPORTING_REPLICA_MAX_LAG_SECONDS", str(DASHBOARD_MAX_AGE_SECONDS)))
REPORTING_REPLICA_RETRY_SECONDS = float(env("REPORTING_REPLICA_RETRY_SECONDS", "5.0"))

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "helpdesk.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": env("LOG_FORMAT", "plain")},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
