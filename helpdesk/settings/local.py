from helpdesk.settings.base import *  # noqa: F403
from helpdesk.settings.base import env_bool

# Off even for the demo: a debug page shows settings, SQL and local variables. DEBUG=1 turns it on.
DEBUG = env_bool("DEBUG", False)
