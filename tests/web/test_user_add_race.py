"""Issue 26 #4: admins adding one username at the same moment. The second add must be a form error, never an
IntegrityError (500), and never a second user differing only in case."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_tenants.utils import schema_context

from complaints.admin import TenantUserAdmin
from helpdesk.tenancy import connection, connections
from tests.conftest import someone_waits_on_a_lock, wait_for

NEW_PASSWORD = "a-fresh-secret-9481"


def _add(world, username: str) -> tuple[int, str]:
    client = Client(HTTP_HOST=world.domain, raise_request_exception=False)
    client.force_login(world.ada)
    response = client.post(
        "/admin/auth/user/add/",
        {"username": username, "role": "agent", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    return response.status_code, response.content.decode()


def _thread(world, work, outcome: dict, key: str) -> threading.Thread:
    def run():
        try:
            connection.set_tenant(world.tenant)
            outcome[key] = work()
        except Exception as exc:
            outcome[key] = (0, repr(exc))
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.parametrize("second", ["racer", "RACER"])
def test_an_add_racing_an_uncommitted_add_of_the_same_username_is_a_form_error(committed, monkeypatch, second):
    """Deterministic: the first add is held after its insert, before its commit, until the second is waiting."""
    world = committed["alpha"]
    inserted, release = threading.Event(), threading.Event()
    original = TenantUserAdmin.save_model

    def held_save_model(self, request, obj, form, change):
        original(self, request, obj, form, change)
        if obj.username == "racer":
            inserted.set()
            release.wait(timeout=30)

    monkeypatch.setattr(TenantUserAdmin, "save_model", held_save_model)
    outcome: dict = {}
    first = _thread(world, lambda: _add(world, "racer"), outcome, "first")
    assert inserted.wait(timeout=30), outcome
    second_add = _thread(world, lambda: _add(world, second), outcome, "second")
    wait_for(lambda: someone_waits_on_a_lock() or "second" in outcome, timeout=30, message="the second add")
    release.set()
    first.join(timeout=30)
    second_add.join(timeout=30)
    assert outcome["first"][0] == 302, outcome["first"][1][:2000]
    code, html = outcome["second"]
    assert code == 200 and "A user with that username already exists." in html, (code, html[:3000])
    with schema_context("alpha"):
        assert get_user_model().objects.filter(username__iexact="racer").count() == 1


def test_eight_parallel_adds_of_one_username_give_one_user_and_seven_form_errors(committed):
    world = committed["alpha"]
    start = threading.Barrier(8)
    outcome: dict = {}

    def add():
        start.wait(timeout=30)
        return _add(world, "octo")

    threads = [_thread(world, add, outcome, str(i)) for i in range(8)]
    for thread in threads:
        thread.join(timeout=60)
    codes = sorted(code for code, _ in outcome.values())
    assert codes == [200] * 7 + [302], outcome
    with schema_context("alpha"):
        assert get_user_model().objects.filter(username__iexact="octo").count() == 1
