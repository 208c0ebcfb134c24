"""Django settings for Parity.

Everything that differs between machines comes from the environment (django-environ). With no
DATABASE_URL the app runs on a SQLite file (the embedded demo); with no REDIS_URL Celery tasks run
eagerly in-process. Tests and production use PostgreSQL and Redis.
"""

import base64
import hashlib
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from rcm.outbox import registry as _outbox_queues

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# With DEBUG off (production, and any run that forgot DEBUG=true) these must come from the
# environment: the process refuses to start rather than run on a public key, accept any host or
# fall back to the SQLite demo file. (`make run` sets DEBUG=true; tests/settings.py sets test values.)
PRODUCTION_REQUIRED = ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL")
if not DEBUG:
    for _name in PRODUCTION_REQUIRED:
        if not env.str(_name, default="").strip():
            raise ImproperlyConfigured(
                f"{_name} must be set in the environment when DEBUG is off "
                f"(docs/operations.md, Configuration). For local development set DEBUG=true."
            )
# The fallback key is for the embedded demo (DEBUG on) only.
SECRET_KEY = env.str("SECRET_KEY", default="insecure-parity-demo-key-change-me-0123456789abcdef")
# Fernet key encrypting stored credentials (clearinghouse passwords); derived from SECRET_KEY
# unless set (a 32-byte url-safe base64 key, `Fernet.generate_key()`).
CREDENTIALS_KEY = env.str(
    "CREDENTIALS_KEY",
    default=base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode(),
)
# CA bundle for verifying clearinghouse HTTPS endpoints (None: the system's).
CLEARINGHOUSE_CA_BUNDLE = env.str("CLEARINGHOUSE_CA_BUNDLE", default="") or None
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The domain apps, at the top level; rcm/urls.py mounts the pages and API routes of each.
DOMAIN_APPS = [
    "patients",
    "authorizations",
    "credentialing",
    "claims",
    "submissions",
    "denials",
    "dashboards",
    "reconciliation",
    "alerts",
    "webhooks",
    "patient_accounts",
    "interfaces",
    "fhir_api",
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rcm.tenancy",
    "rcm.audit",
    "rcm.outbox",
    "rcm.operations",
    *DOMAIN_APPS,
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "rcm.tenancy.middleware.IdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After the idle timeout (a signed-out session needs no second factor) and htmx (it answers
    # htmx with HX-Redirect), before the tenant: no organization page without the second factor.
    "rcm.tenancy.middleware.TwoFactorMiddleware",
    "rcm.audit.middleware.RequestContextMiddleware",
    "rcm.api.reject_nul_in_query",
    "rcm.tenancy.middleware.TenantMiddleware",
    # After the tenant: one audit event per GET of a page or API view marked `audit_phi`.
    "rcm.audit.reads.PhiReadAuditMiddleware",
    "rcm.errors.DomainErrorMiddleware",
    # Axes last, as its documentation asks, so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "rcm.urls"
WSGI_APPLICATION = "rcm.wsgi.application"
ASGI_APPLICATION = "rcm.asgi.application"

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
                "rcm.tenancy.context_processors.tenancy",
                "alerts.context_processors.open_alerts",
            ],
            "builtins": [
                "rcm.tenancy.templatetags.org_urls",
                "rcm.tenancy.templatetags.formatting",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # TenantMiddleware opens the transaction.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
# A streaming replica for dashboards, reports and exports (rcm/replica.py; docs/scaling.md): used
# while its lag is at most DATABASE_REPLICA_MAX_LAG_SECONDS (read every
# DATABASE_REPLICA_CHECK_SECONDS), the primary otherwise.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"]["ATOMIC_REQUESTS"] = False
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
DATABASE_ROUTERS = ["rcm.replica.ReplicaRouter"]
DATABASE_REPLICA_MAX_LAG_SECONDS = env.float("DATABASE_REPLICA_MAX_LAG_SECONDS", default=10.0)
DATABASE_REPLICA_CHECK_SECONDS = env.float("DATABASE_REPLICA_CHECK_SECONDS", default=5.0)
# The role the application runs as in production: owns no table, is not a superuser, has no
# BYPASSRLS. `manage.py setup_db_roles` creates it; migrations run as the owner (docs/tenancy.md).
DATABASE_APP_ROLE = env.str("DATABASE_APP_ROLE", default="parity_app")
DATABASE_APP_PASSWORD = env.str("DATABASE_APP_PASSWORD", default="")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The embedded SQLite demo cannot enforce NULLS NOT DISTINCT unique constraints; PostgreSQL does.
SILENCED_SYSTEM_CHECKS = [] if IS_POSTGRES else ["models.W047"]
AUTH_USER_MODEL = "tenancy.User"

# --- Sign-in ----------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# HIPAA workstation practice: sign out an idle session. Minutes, per deployment.
SESSION_IDLE_TIMEOUT_MINUTES = env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=15)
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# SESSION_COOKIE_SECURE / CSRF_COOKIE_SECURE: see "Production hardening" below.

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Invitations to join an organization: the emailed link works this many days.
INVITATION_VALID_DAYS = env.int("INVITATION_VALID_DAYS", default=7)
# Password reset links (Django's default token generator) work this many seconds.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=24 * 3600)
# "Forgot your password?" requests per hour, per client address and per email address; beyond
# them the page answers the same but sends nothing. Counted in the default cache, which must be
# shared between processes (Redis) for the limits to hold across them.
PASSWORD_RESET_LIMIT_PER_IP = env.int("PASSWORD_RESET_LIMIT_PER_IP", default=10)
PASSWORD_RESET_LIMIT_PER_EMAIL = env.int("PASSWORD_RESET_LIMIT_PER_EMAIL", default=3)

# Second factor (docs/tenancy.md "Two-factor sign-in"): TOTP apps and single-use recovery codes.
# Wrong codes at the second step count as failed sign-ins for Axes (the same lockout).
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Parity")
RECOVERY_CODE_COUNT = 10
# How long the password step stays good while the second step is pending.
TWO_FACTOR_PENDING_SECONDS = 300

# --- Localisation -----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATIC_MANIFEST", default=False)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Email ------------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Parity <no-reply@parity.invalid>")

# --- Webhooks (webhooks/) -----------------------------------------------------------------------
# Endpoint signing secrets are stored Fernet-encrypted with this key (32 url-safe base64 bytes);
# without one it is derived from SECRET_KEY, so rotating SECRET_KEY needs WEBHOOK_ENCRYPTION_KEY set
# to the old derived key first.
WEBHOOK_ENCRYPTION_KEY = env.str("WEBHOOK_ENCRYPTION_KEY", default="")
# Development only: accept http://localhost / 127.0.0.1 endpoints (a local receiver). Never in
# production: every other non-HTTPS or private-address URL is refused (SSRF).
WEBHOOK_ALLOW_HTTP_LOCALHOST = env.bool("WEBHOOK_ALLOW_HTTP_LOCALHOST", default=False)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# An endpoint whose deliveries have failed for this long is disabled and its owners alerted.
WEBHOOK_DISABLE_AFTER_DAYS = env.int("WEBHOOK_DISABLE_AFTER_DAYS", default=3)

# --- Celery and the cache --------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# The cache holds the password-reset and sign-in rate limits, which every web process must share:
# Redis when there is one, else this process's memory (the embedded demo; tests/settings.py).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Named queues by kind of work (rcm/outbox/registry.py; docs/operations.md, "Scaling the workers
# out"). Each outbox handler names its queue; a worker without -Q consumes every queue declared
# here, so one worker does everything on a small site and `-Q imports` (and so on) splits them.
CELERY_TASK_DEFAULT_QUEUE = _outbox_queues.DEFAULT_QUEUE
CELERY_TASK_QUEUES = [Queue(name) for name in _outbox_queues.QUEUES]
CELERY_TASK_ROUTES = {
    "rcm.outbox.tasks.outbox_relay": {"queue": _outbox_queues.DEFAULT_QUEUE},
    "rcm.operations.tasks.scan_runs_catch_up": {"queue": _outbox_queues.SCANS},
    "authorizations.tasks.*": {"queue": _outbox_queues.SCANS},
    "credentialing.tasks.*": {"queue": _outbox_queues.SCANS},
    "denials.tasks.*": {"queue": _outbox_queues.SCANS},
    "claims.tasks.claims_unbillable_scan_all": {"queue": _outbox_queues.SCANS},
    "claims.tasks.care_month_rollup_all": {"queue": _outbox_queues.SCANS},
    "claims.tasks.acknowledgments_pickup": {"queue": _outbox_queues.IMPORTS},
    "denials.tasks.claim_status_pickup": {"queue": _outbox_queues.IMPORTS},
    "claims.tasks.batch_build": {"queue": _outbox_queues.SUBMISSIONS},
}
# Times that must agree (system check rcm.E001-E003 in rcm/tenancy/checks.py; docs/operations.md,
# "Time limits"): soft limit < hard limit < visibility timeout, and the outbox relay's overdue age
# < visibility timeout. With acks_late, Redis hands a message whose worker died (or is still
# running it) to another worker after the visibility timeout, so a task must be killed before that.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=10 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=9 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=8 * 60)
# Workers that survive a Redis restart (docs/operations.md, "Broker connection loss"): reconnect
# forever instead of giving up after 100 tries, retry channel errors, let a task running when the
# connection drops finish (its message is redelivered and the outbox claim makes that a no-op;
# cancelling it killed it after its email was sent and before its commit, so the relay's rerun
# sent the email twice: make test-faults), and detect a dead or half-open connection.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_CHANNEL_ERROR_RETRY = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "health_check_interval": 25,
    "socket_keepalive": True,
    "socket_connect_timeout": 5,
    "socket_timeout": 30,
    "retry_on_timeout": True,
}
CELERY_TIMEZONE = "UTC"
# Recovering a job whose worker died (docs/operations.md, "The outbox"; system check rcm.E004-E006
# in rcm/tenancy/checks.py). A long-running handler holds its message for OUTBOX_LEASE_SECONDS and
# a heartbeat renews the lease every OUTBOX_HEARTBEAT_SECONDS while it runs; a killed worker's
# lease lapses and the relay (every OUTBOX_RELAY_INTERVAL_SECONDS) sends the message again, so
# lease + relay interval (75 s by default) plus the queue and the rerun stay within two minutes.
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=45)
OUTBOX_HEARTBEAT_SECONDS = env.int("OUTBOX_HEARTBEAT_SECONDS", default=15)
OUTBOX_RELAY_INTERVAL_SECONDS = env.int("OUTBOX_RELAY_INTERVAL_SECONDS", default=30)
CELERY_BEAT_SCHEDULE = {
    "outbox-relay": {
        "task": "rcm.outbox.tasks.outbox_relay",
        "schedule": float(OUTBOX_RELAY_INTERVAL_SECONDS),
    },
    # The daily scans (authorization, credentialing, unbillable charges, follow-ups, small-balance
    # write-offs): each organization's run is recorded per scan and local day and started through
    # the outbox once its local start time passes; a run lost while Redis or the workers were
    # down, or one that failed, is caught up on a later tick (rcm/operations; docs/operations.md).
    "scan-runs-catch-up": {
        "task": "rcm.operations.tasks.scan_runs_catch_up",
        "schedule": 600.0,
    },
    # Denials, hourly refresh between the day's recorded runs: due follow-ups, appeal deadline
    # escalations, payer and claim-status follow-ups.
    "denials-follow-up-scan": {
        "task": "denials.tasks.follow_up_scan_all",
        "schedule": crontab(minute=5),
    },
    # 999 / 277CA files dropped in the inbound folders (submissions/tasks.py).
    "acknowledgments-pickup": {
        "task": "claims.tasks.acknowledgments_pickup",
        "schedule": 300.0,
    },
    # 277 claim status responses (005010X212) in the same inbound folders (denials/tasks.py).
    "claim-status-pickup": {
        "task": "denials.tasks.claim_status_pickup",
        "schedule": 300.0,
    },
}
# Claim files (837) are written under X12_OUTBOUND_DIR/<org slug>/<clearinghouse code>/;
# acknowledgments are picked up from X12_INBOUND_DIR/<org slug>/<clearinghouse code>/.
X12_OUTBOUND_DIR = env.str("X12_OUTBOUND_DIR", default=str(BASE_DIR / "var" / "x12" / "outbound"))
X12_INBOUND_DIR = env.str("X12_INBOUND_DIR", default=str(BASE_DIR / "var" / "x12" / "inbound"))
# Demo mode (DEBUG on, as `make run`): an SFTP clearinghouse's uploads land in this local folder,
# <dir>/<host>/<remote dir>/, instead of going over the network. Empty (production): real SFTP.
X12_SFTP_DEMO_DIR = env.str(
    "X12_SFTP_DEMO_DIR", default=str(BASE_DIR / "var" / "sftp-demo") if DEBUG else ""
)
# The audit table's month partitions (rcm/audit/partitions.py; `manage.py audit_partitions`):
# months kept ahead, and how long the trail is kept (HIPAA documentation: six years).
AUDIT_PARTITION_MONTHS_AHEAD = env.int("AUDIT_PARTITION_MONTHS_AHEAD", default=12)
AUDIT_RETENTION_YEARS = env.int("AUDIT_RETENTION_YEARS", default=6)
# Enrollment applications pending longer than this raise an alert (credentialing scan).
CREDENTIALING_PENDING_ALERT_DAYS = env.int("CREDENTIALING_PENDING_ALERT_DAYS", default=90)
# Outbox rows still pending this long after creation are overdue and re-sent by the relay; it
# must be shorter than CELERY_VISIBILITY_TIMEOUT (check rcm.E003) so that the relay, not Redis's
# redelivery, recovers work whose worker died.
OUTBOX_RELAY_AFTER_SECONDS = env.int("OUTBOX_RELAY_AFTER_SECONDS", default=30)

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rcm.api.ApiKeyAuthentication",
        "rcm.api.TenantSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rcm.api.HasScope"],
    "DEFAULT_PAGINATION_CLASS": "rcm.api.DefaultCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "rcm.api_routing.ParityAutoSchema",
    "EXCEPTION_HANDLER": "rcm.api.problem_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON objects only; the two file uploads (835s, acknowledgments) add multipart themselves.
    "DEFAULT_PARSER_CLASSES": ["rcm.api.JsonObjectParser"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Parity API",
    "DESCRIPTION": (
        "Behavioral health revenue cycle management. Authenticate with an organization API key "
        "(`Authorization: Bearer <key>`); the key decides the organization and its scopes."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "rcm.api_routing.document_problem_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        # Outbox messages and scan runs share these states (pending, done, failed, cancelled).
        "JobStatusEnum": "rcm.outbox.models.OutboxStatus",
        "GuarantorRelationshipEnum": "patient_accounts.models.Relationship",
        "PatientPaymentMethodEnum": "patient_accounts.models.PaymentMethod",
        "SexEnum": "patients.models.Sex",
        "TelehealthModifierEnum": "patients.models.TelehealthModifier",
        "ClaimStatusEnum": "claims.models.ClaimStatus",
        "ChargeStatusEnum": "claims.models.EntryStatus",
        "ServiceKindEnum": "claims.models.SERVICE_KINDS",
        "ClaimFormEnum": "patients.models.ClaimForm",
        "EnrollmentStatusEnum": "credentialing.models.EnrollmentStatus",
        "CredentialKindEnum": "credentialing.models.CredentialKind",
        "AuthorizationStatusEnum": "authorizations.models.AuthorizationStatus",
        "PatientStatusEnum": "patients.models.PatientStatus",
        "EpisodeStatusEnum": "patients.models.EpisodeStatus",
        "BatchStatusEnum": "submissions.models.BatchStatus",
        "AckKindEnum": "submissions.models.AckKind",
        "AckSourceEnum": "submissions.models.ACK_SOURCES",
        "AppealLevelEnum": "denials.models.AppealLevel",
        "AppealOutcomeEnum": "denials.models.AppealOutcome",
        "WorkStatusEnum": "denials.models.WorkStatus",
        "WorkKindEnum": "denials.models.WorkKind",
        "DepositKindEnum": "reconciliation.models.DepositKind",
        "RemittanceImportStatusEnum": "denials.models.ImportStatus",
        "DenialCategoryEnum": "denials.models.DenialCategory",
        # Named so the denials enums (level, outcome, kind) do not collide with these.
        "LevelOfCareEnum": "patients.levels.LevelOfCare",
        "ReviewOutcomeEnum": "authorizations.models.ReviewOutcome",
    },
    "AUTHENTICATION_WHITELIST": ["rcm.api.ApiKeyAuthentication"],
}

# --- Production hardening: security headers, HTTPS, cookies, caching (issue 16) ---------------
# Kept in one block on purpose (easier merges); docs/operations.md "Security headers" explains it.
# Production defaults are the safe ones; with DEBUG on (development) HTTPS is not forced.
SECURE_CONTENT_TYPE_NOSNIFF = True  # X-Content-Type-Options: nosniff
SECURE_REFERRER_POLICY = env.str("SECURE_REFERRER_POLICY", default="same-origin")
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Strict-Transport-Security (sent on HTTPS responses only). One year; preload is a setting.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=SESSION_COOKIE_SECURE)
# Behind a TLS-terminating proxy Django sees plain HTTP: name the header the proxy sets, as
# SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO=https" (BEHIND_PROXY=true is that default).
# Set it only when the proxy always sets (or strips) that header, or anyone can claim HTTPS.
_proxy_header = env.str(
    "SECURE_PROXY_SSL_HEADER",
    default="HTTP_X_FORWARDED_PROTO=https" if env.bool("BEHIND_PROXY", default=False) else "",
)
if _proxy_header and "=" not in _proxy_header:
    raise ImproperlyConfigured(
        "SECURE_PROXY_SSL_HEADER must read HEADER=value, e.g. HTTP_X_FORWARDED_PROTO=https"
    )
SECURE_PROXY_SSL_HEADER = (
    tuple(part.strip() for part in _proxy_header.split("=", 1)) if _proxy_header else None
)
# Content-Security-Policy (django-csp 4): scripts and styles from our own origin only; no inline
# script, no on*= handler, no eval (htmx's allowEval is off, base.html). Inline style attributes
# (style="width: 40%" on progress bars and timelines) are allowed by style-src-attr; <style>
# elements are not (htmx's indicator styles live in parity.css). Same in tests and development,
# so a browser test fails on an inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-elem": [SELF],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# CSP right after SecurityMiddleware; no-store on every response that may carry PHI (signed-in,
# organization and API responses: rcm/security.py) once the user is known.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "csp.middleware.CSPMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "rcm.security.NoStoreMiddleware",
)
# --- End of production hardening -------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}
