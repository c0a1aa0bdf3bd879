"""Issue 26 #5: no installation signs cookies with a key written in the code. `make run` (local settings) uses a
random key generated once into var/, production refuses to start without SECRET_KEY."""

import os
import stat
import subprocess
import sys

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import Client, RequestFactory, override_settings
from django.utils.safestring import mark_safe

from helpdesk.settings.base import install_secret_key
from tests.conftest import ROOT

PUBLIC_KEY_OF_OLD = "insecure-dev-key-only-for-local-use"  # the key the code used to carry


def _settings_value(module: str, name: str, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "METRICS_TOKEN")}
    clean.update(env, DJANGO_SETTINGS_MODULE=module)
    code = f"from django.conf import settings; print(settings.{name})"
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
    )


def test_a_new_installation_gets_its_own_random_key_once_readable_by_its_owner_only(tmp_path):
    first = install_secret_key(tmp_path / "var" / "secret_key")
    assert install_secret_key(tmp_path / "var" / "secret_key") == first  # kept: sessions survive a restart
    assert len(first) >= 50 and first != PUBLIC_KEY_OF_OLD
    assert stat.S_IMODE((tmp_path / "var" / "secret_key").stat().st_mode) == 0o600
    assert install_secret_key(tmp_path / "other" / "secret_key") != first  # another installation, another key


def test_the_local_settings_use_the_installation_key_not_one_from_the_code():
    result = _settings_value("helpdesk.settings.local", "SECRET_KEY")
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert key != PUBLIC_KEY_OF_OLD and key == (ROOT / "var" / "secret_key").read_text().strip()


def test_an_environment_key_wins_over_the_installation_key():
    result = _settings_value("helpdesk.settings.local", "SECRET_KEY", SECRET_KEY="from-the-environment-0123456789")
    assert result.stdout.strip() == "from-the-environment-0123456789", result.stderr


@pytest.mark.parametrize("value", [None, "", "   "])
def test_production_refuses_to_start_without_a_secret_key(value):
    env = {"ALLOWED_HOSTS": "x.example.com", "METRICS_TOKEN": "a-metrics-token-0123456789"}
    if value is not None:
        env["SECRET_KEY"] = value
    result = _settings_value("helpdesk.settings.production", "SECRET_KEY", **env)
    assert result.returncode != 0 and "Set the SECRET_KEY environment variable" in result.stderr


def test_a_messages_cookie_signed_with_the_old_public_key_renders_nothing(alpha):
    """The attack: plant a `messages` cookie signed with the key anyone could read in the code; the login page
    would render its HTML (a message marked safe keeps that mark through the cookie)."""
    attack = Message(constants.ERROR, mark_safe('<a id="planted" href="https://evil.example/">Session expired</a>'))
    with override_settings(SECRET_KEY=PUBLIC_KEY_OF_OLD):
        storage = CookieStorage(RequestFactory().get("/"))
        cookie = storage._encode([attack])  # type: ignore[attr-defined]  # private in the stubs, public enough here
    client = Client(HTTP_HOST=alpha.domain)
    client.cookies["messages"] = cookie
    page = client.get("/login/").content.decode()
    assert 'id="planted"' not in page
