from helpdesk.settings.base import *  # noqa: F403
from helpdesk.settings.base import env_bool

DEBUG = env_bool("DEBUG", True)
