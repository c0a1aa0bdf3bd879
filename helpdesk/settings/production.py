"""Production: secrets and hosts must come from the environment; secure cookies and HSTS on."""

from helpdesk.settings.base import *  # noqa: F403
from helpdesk.settings.base import env, env_bool, env_secret

DEBUG = False
SECRET_KEY = env_secret("SECRET_KEY")
# /metrics and /healthz's per-tenant figures: a token, never "any loopback client" (a same-host proxy is one).
METRICS_TOKEN = env_secret("METRICS_TOKEN")
METRICS_TRUST_LOOPBACK = False
ALLOWED_HOSTS = [h.strip() for h in env("ALLOWED_HOSTS").split(",") if h.strip()]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
