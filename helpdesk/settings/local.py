from helpdesk.settings.base import *  # noqa: F403
from helpdesk.settings.base import BASE_DIR, env_bool, install_secret_key

SECRET_KEY = install_secret_key(BASE_DIR / "var" / "secret_key")
METRICS_TRUST_LOOPBACK = True  # a developer's machine: no proxy in front (see base)

# Off even for the demo: a debug page shows settings, SQL and local variables. DEBUG=1 turns it on.
DEBUG = env_bool("DEBUG", False)
