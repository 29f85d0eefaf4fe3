"""Django settings for uku.

Every value comes from the environment (django-environ), with defaults that make `make run` work on a
laptop with nothing installed: SQLite under `var/` and a filesystem Celery broker under `var/`.
`.env.example` lists every variable. With `DEBUG` off, the secrets have no defaults and the process
refuses to start with an error naming the missing variable.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("UKU_VAR_DIR", default=str(BASE_DIR / "var")))

VAR_DIR.mkdir(parents=True, exist_ok=True)  # SQLite, the filesystem broker and beat live here

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
TESTING = env.bool("UKU_TESTING", default=False)


def _required_secret(name: str, dev_default: str) -> str:
    """A secret that must be set in production; in DEBUG a fixed dev value keeps `make run` simple."""
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG or TESTING:
        return dev_default
    raise ImproperlyConfigured(
        f"The environment variable {name} is required when DEBUG is off. "
        f"See .env.example for how to generate it."
    )


SECRET_KEY = _required_secret("SECRET_KEY", "dev-insecure-secret-key-do-not-use-in-production")
# Comma-separated Fernet keys, newest first (see `manage.py rotate_encryption_keys`).
UKU_ENCRYPTION_KEYS = [
    k.strip()
    for k in _required_secret(
        "UKU_ENCRYPTION_KEYS", "ZGV2LW9ubHktZmVybmV0LWtleS0zMi1ieXRlcy0hISE="
    ).split(",")
    if k.strip()
]


def _validated_fernet_keys(keys: list[str]) -> list[str]:
    """Refuse to start with a key Fernet cannot use, instead of failing on the first save.

    The message names the variable and the key's position, never the key itself.
    """
    from cryptography.fernet import Fernet

    if not keys:
        raise ImproperlyConfigured("The environment variable UKU_ENCRYPTION_KEYS holds no key.")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"UKU_ENCRYPTION_KEYS: key {position} of {len(keys)} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes). Generate one with: python -c 'from "
                "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
            ) from None  # the library's error is not chained, so nothing can echo the key
    return keys


UKU_ENCRYPTION_KEYS = _validated_fernet_keys(UKU_ENCRYPTION_KEYS)

# `testserver` is the Django test client's host: allowed in development, never by default in
# production (tests/settings.py adds it for the suite).
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", *(["testserver"] if DEBUG else [])]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_scopes",
    "axes",
    "uku",
    "integrations",
    "clients",
    "billing",
    "summarytasks",
]
# The accounting systems uku offers, one package each under integrations/ (a Django app with a
# `vendor.INFO`). Adding an accounting system is a folder and a line here.
UKU_ACCOUNTING_SYSTEMS = ["integrations.tripletex", "integrations.merit"]
# Client-months a reload job's runner reads at once (summarytasks.reload.reload_threads).
UKU_RELOAD_THREADS = env.int("UKU_RELOAD_THREADS", default=4)
INSTALLED_APPS += UKU_ACCOUNTING_SYSTEMS

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "uku.middleware.RequestIdMiddleware",
    "uku.middleware.NulInQueryMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "uku.middleware.CompanyMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into our lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "uku.urls"
WSGI_APPLICATION = "uku.wsgi.application"
ASGI_APPLICATION = "uku.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "uku.context_processors.company",
            ],
        },
    },
]

# --- Database: SQLite under var/ unless DATABASE_URL is set --------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'uku.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default runs web, beat and two worker processes on one file. WAL lets readers
    # and one writer work at once; IMMEDIATE transactions take the write lock at BEGIN, so a
    # transaction never fails half-way on an upgrade from read to write; and a writer waits up to
    # `timeout` seconds for the lock instead of failing at once with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=30),
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "uku.User"
# django-axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "uku.auth.EmailBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # Hashing dominates test time otherwise; production keeps Django's default (PBKDF2).
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- Guessing: login lock-out (django-axes) and password-reset limits --------------------------
# Failures count per account (the e-mail, case-insensitively) and, separately, per client address:
# guessing one account's password from many addresses, or many accounts' from one, both stop.
# The database handler keeps attempts in a table, shared by every web process.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("UKU_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("UKU_LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Both login forms (ours and the admin's) post the e-mail as `username`; axes would look for `email`.
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "uku.lockout.lockout_username"
AXES_LOCKOUT_CALLABLE = "uku.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "uku.client_ip.client_ip"  # honours UKU_NUM_PROXIES, like the API's
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Password-reset e-mails: at most this many per hour per account and per client address. Beyond,
# nothing is sent but the page answers the same, so the form cannot tell who has an account.
UKU_PASSWORD_RESET_PER_HOUR = env.int("UKU_PASSWORD_RESET_PER_HOUR", default=3)
UKU_PASSWORD_RESET_PER_IP_PER_HOUR = env.int("UKU_PASSWORD_RESET_PER_IP_PER_HOUR", default=10)

# --- Internationalisation -------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("nb", _("Norwegian Bokmål"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Oslo"
# Day-first, 24-hour formats for both languages (uku/formats/): not Django's American English.
FORMAT_MODULE_PATH = ["uku.formats"]
USE_I18N = True
USE_TZ = True

# --- Static files (WhiteNoise) ----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = DEBUG or TESTING  # serve static/ directly, no collectstatic in dev
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- E-mail -----------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="uku <no-reply@uku.local>")

# --- Security ---------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
# Sessions idle out: UKU_SESSION_IDLE_MINUTES (8 hours) after the last request, which extends it.
SESSION_COOKIE_AGE = env.int("UKU_SESSION_IDLE_MINUTES", default=8 * 60) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"
# django-csp 3.x: our own origin only. htmx needs no inline script; Swagger UI is served by the
# sidecar's split view so it needs none either.
CSP_DEFAULT_SRC = ("'self'",)
CSP_IMG_SRC = ("'self'", "data:")
CSP_STYLE_SRC = ("'self'",)
CSP_SCRIPT_SRC = ("'self'",)
CSP_FRAME_ANCESTORS = ("'none'",)
CSP_FORM_ACTION = ("'self'",)
# default-src does not cover <base>: without this an injected <base href> would point every
# relative URL (scripts included) at another origin.
CSP_BASE_URI = ("'self'",)

# --- Django REST framework and the OpenAPI schema -------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "uku.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["uku.api.permissions.IsCompanyMember"],
    "DEFAULT_PAGINATION_CLASS": "uku.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "uku.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "uku.api.errors.exception_handler",
    # DRF's defaults, with a JSON parser that answers a too deeply nested document with a 400.
    "DEFAULT_PARSER_CLASSES": [
        "uku.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Throttling: per user, and per address for anonymous calls; 429 with Retry-After beyond.
    "DEFAULT_THROTTLE_CLASSES": [
        "uku.api.throttling.AnonThrottle",
        "uku.api.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("UKU_API_THROTTLE_ANON", default="60/minute"),
        "user": env.str("UKU_API_THROTTLE_USER", default="600/minute"),
    },
    # The client address is REMOTE_ADDR unless this many trusted proxies add X-Forwarded-For
    # (0: never trust the header, which anyone can set to dodge the per-address budget).
    "NUM_PROXIES": env.int("UKU_NUM_PROXIES", default=0),
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )
SPECTACULAR_SETTINGS = {
    "TITLE": "uku API",
    "DESCRIPTION": (
        "The uku REST API. Authenticate with a personal API token: `Authorization: Token <token>`. "
        'Errors have one shape: `{"code", "detail", "fields"}`.'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # One enum for the firm's country and a client's registry country (the same choices).
    "ENUM_NAME_OVERRIDES": {
        "CountryEnum": "uku.registry_numbers.Country",
        # A sync job's status keeps its name next to a summary task's.
        "StatusEnum": "integrations.models.SyncJobStatus",
        "TaskStatusEnum": "summarytasks.models.TaskStatus",
        # An invoice's status and an export's state have their own names too.
        "InvoiceStatusEnum": "billing.models.InvoiceStatus",
        "InvoiceExportStateEnum": "billing.models.ExportState",
    },
}

# --- Celery -----------------------------------------------------------------------------------------
# With no broker URL the embedded default is kombu's filesystem transport under var/: real worker
# and beat processes, no server. Production sets CELERY_BROKER_URL=redis://...
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
CELERY_TASK_IGNORE_RESULT = True
# The queue every task goes to and workers consume by default (one deployment, one queue).
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# Results are not needed by uku (jobs report through SyncJob rows); a backend can be set for tools.
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_TIMEZONE = TIME_ZONE
# Logging is Django's LOGGING (see uku/celery.py): Celery must not replace the root handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
# Eager mode exists only for unit tests (tests/conftest.py turns it on); never in a running system.
CELERY_TASK_ALWAYS_EAGER = False


def _cron(name: str, default: str) -> crontab:
    """A crontab from `minute hour day_of_month month day_of_week`, overridable per entry."""
    minute, hour, dom, month, dow = env.str(name, default=default).split()
    return crontab(minute=minute, hour=hour, day_of_month=dom, month_of_year=month, day_of_week=dow)


# The beat schedule is data: each entry's cron is overridable by an environment variable, and
# `expires` sits just under the interval so a backlog never stacks duplicate runs.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "purge-expired-invitations": {
        "task": "uku.tasks.purge_expired_invitations",
        "schedule": _cron("UKU_CRON_PURGE_INVITATIONS", "17 3 * * *"),
        "options": {"expires": 23 * 3600},
    },
    "resume-stalled-jobs": {
        "task": "integrations.tasks.resume_stalled_jobs",
        "schedule": _cron("UKU_CRON_RESUME_STALLED_JOBS", "* * * * *"),
        "options": {"expires": 50},
    },
    "sweep-invoice-exports": {
        "task": "billing.tasks.sweep_invoice_exports",
        "schedule": _cron("UKU_CRON_SWEEP_INVOICE_EXPORTS", "* * * * *"),
        "options": {"expires": 50},
    },
    "daily-invoice-status-checks": {
        "task": "billing.tasks.start_daily_invoice_status_checks",
        "schedule": _cron("UKU_CRON_INVOICE_STATUS", "7 * * * *"),
        "options": {"expires": 50 * 60},
    },
    "warn-expiring-integration-tokens": {
        "task": "integrations.tasks.warn_expiring_tokens",
        "schedule": _cron("UKU_CRON_TOKEN_EXPIRY", "5 7 * * *"),
        "options": {"expires": 23 * 3600},
    },
    # Hourly: the firms whose monthly import day of work statistics is today (each in its own
    # time zone) get one import per linked client not yet imported for the month.
    "monthly-statistics-imports": {
        "task": "summarytasks.tasks.schedule_monthly_imports",
        "schedule": _cron("UKU_CRON_MONTHLY_STATISTICS", "7 * * * *"),
        "options": {"expires": 50 * 60},
    },
}

# --- Redis (shared state such as the Tripletex rate-limit budget) ---------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# The cache holds the password-reset and API throttling counters: they must be shared by every web
# process, so production (with Redis) keeps them there; `make run` is one process, memory suffices.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Logging: JSON lines with a request id; secrets redacted ------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "uku.logging.RequestIdFilter"},
        "redact": {"()": "uku.logging.RedactSecretsFilter"},
    },
    "formatters": {
        "json": {"()": "uku.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id", "redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's defaults give "django" (under DEBUG) and "django.server" (runserver's access
        # log) their own plain-text handlers, which skip the redaction filter; request paths carry
        # invitation and password-reset tokens. Ours replace them.
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "INFO"},
        "urllib3": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # lock-outs only; not a line per failed login
    },
}

# --- Tripletex ----------------------------------------------------------------------------------------
# Base URLs per environment, and the platform's own consumer token per environment (uku's, not
# the firm's). `make run` points the Test environment at the bundled sandbox.
TRIPLETEX_PRODUCTION_URL = env.str("TRIPLETEX_PRODUCTION_URL", default="https://tripletex.no/v2")
TRIPLETEX_TEST_URL = env.str("TRIPLETEX_TEST_URL", default="https://api-test.tripletex.tech/v2")
TRIPLETEX_CONSUMER_TOKEN_PRODUCTION = env.str("TRIPLETEX_CONSUMER_TOKEN_PRODUCTION", default="")
TRIPLETEX_CONSUMER_TOKEN_TEST = env.str("TRIPLETEX_CONSUMER_TOKEN_TEST", default="")
# Seconds: connect, read. Retries: attempts for transient failures of reads.
TRIPLETEX_CONNECT_TIMEOUT = env.float("TRIPLETEX_CONNECT_TIMEOUT", default=5.0)
TRIPLETEX_READ_TIMEOUT = env.float("TRIPLETEX_READ_TIMEOUT", default=30.0)
TRIPLETEX_MAX_ATTEMPTS = env.int("TRIPLETEX_MAX_ATTEMPTS", default=4)
# Longest a call waits in-process for the shared rate-limit budget before raising RateLimited
# (a Celery task then retries later instead of holding a worker).
TRIPLETEX_MAX_INLINE_WAIT = env.float("TRIPLETEX_MAX_INLINE_WAIT", default=30.0)

# --- uku ----------------------------------------------------------------------------------------------
UKU_INVITATION_DAYS = env.int("UKU_INVITATION_DAYS", default=14)
# Sync jobs: a running job writes a heartbeat every UKU_JOB_HEARTBEAT_SECONDS; one silent for
# UKU_JOB_STALL_SECONDS is stalled (its worker died) and is resumed from its last committed
# batch, at most UKU_JOB_MAX_RESUMES times before it is failed for good.
UKU_JOB_HEARTBEAT_SECONDS = env.float("UKU_JOB_HEARTBEAT_SECONDS", default=10.0)
UKU_JOB_STALL_SECONDS = env.float("UKU_JOB_STALL_SECONDS", default=60.0)
UKU_JOB_MAX_RESUMES = env.int("UKU_JOB_MAX_RESUMES", default=5)
# Invoice export outbox: attempts of a transient failure before an export fails visibly, and
# how long a row may stay in flight before the sweeper takes it as abandoned (above the export
# task's hard time limit of 240 s, so a live attempt is never taken over).
UKU_INVOICE_EXPORT_MAX_ATTEMPTS = env.int("UKU_INVOICE_EXPORT_MAX_ATTEMPTS", default=6)
UKU_INVOICE_EXPORT_STALL_SECONDS = env.float("UKU_INVOICE_EXPORT_STALL_SECONDS", default=300.0)
