"""A change of credentials ends the old ones (issue 26, findings 1 and 11): a password reset by the tenant admin, a
password change by the user, and a deactivation revoke the user's API tokens and sessions; a re-activation brings
none of them back."""

from django.contrib.auth import get_user_model
from django.test import Client

from tests.factories import api_token
from tests.world import PASSWORD


def _api(world, token: str) -> int:
    return Client(HTTP_HOST=world.domain).get("/api/complaints/", HTTP_AUTHORIZATION=f"Token {token}").status_code


def _signed_in(client) -> bool:
    return client.get("/complaints/").status_code == 200


def _new_user(world, username: str):
    from complaints.roles import Role, user_set_role

    world.activate()
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    user_set_role(user=user, role=Role.AGENT)
    return user


def test_a_password_reset_by_the_tenant_admin_revokes_tokens_and_sessions(client_for, alpha):
    erin = _new_user(alpha, "erin")
    token, session = api_token(erin), client_for(alpha, erin)
    assert _api(alpha, token) == 200 and _signed_in(session)
    admin = client_for(alpha, alpha.ada)
    new = "a-fresh-secret-9481"
    response = admin.post(f"/admin/auth/user/{erin.pk}/password/", {"password1": new, "password2": new})
    assert response.status_code == 302, response.content[:2000]
    assert _api(alpha, token) == 401, "the token issued under the old password still works"
    assert not _signed_in(session), "the session opened with the old password still works"
    assert _signed_in(admin), "the admin's own session was ended"


def test_deactivating_revokes_and_reactivating_brings_nothing_back(client_for, alpha):
    erin = _new_user(alpha, "erin")
    token, session = api_token(erin), client_for(alpha, erin)
    erin.is_active = False
    erin.save()
    erin.is_active = True
    erin.save()
    assert _api(alpha, token) == 401, "a token of the deactivated user works again after re-activation"
    assert not _signed_in(session), "a session of the deactivated user works again after re-activation"


def test_set_password_anywhere_revokes_but_a_login_or_a_name_change_does_not(client_for, alpha):
    erin = _new_user(alpha, "erin")
    token = api_token(erin)
    Client(HTTP_HOST=alpha.domain).post("/login/", {"username": "erin", "password": PASSWORD})
    erin.refresh_from_db()
    erin.first_name = "Erin"
    erin.save()
    assert _api(alpha, token) == 200, "a login or a name change revoked the user's token"
    erin.set_password("another-secret-5512")
    erin.save()
    assert _api(alpha, token) == 401


def test_revoking_one_user_leaves_the_others_alone(client_for, alpha):
    erin, fred = _new_user(alpha, "erin"), _new_user(alpha, "fred")
    fred_token, fred_session = api_token(fred), client_for(alpha, fred)
    erin.set_password("another-secret-5512")
    erin.save()
    assert _api(alpha, fred_token) == 200 and _signed_in(fred_session)


def test_an_agent_changes_their_password_and_keeps_only_this_session(client_for, alpha):
    erin = _new_user(alpha, "erin")
    token, elsewhere, here = api_token(erin), client_for(alpha, erin), client_for(alpha, erin)
    page = here.get("/complaints/").content.decode()
    assert 'href="/password/"' in page, "the navigation does not link the password page"
    new = "a-fresh-secret-9481"
    response = here.post(
        "/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}, follow=True
    )
    assert response.status_code == 200 and b"Password changed" in response.content
    assert _signed_in(here), "the session that changed the password was signed out"
    assert not _signed_in(elsewhere), "another session of the user survived the password change"
    assert _api(alpha, token) == 401, "an API token survived the password change"
    assert Client(HTTP_HOST=alpha.domain).post("/login/", {"username": "erin", "password": new}).status_code == 302


def test_a_wrong_old_password_changes_nothing_and_answers_400(client_for, alpha):
    erin = _new_user(alpha, "erin")
    token, here = api_token(erin), client_for(alpha, erin)
    new = "a-fresh-secret-9481"
    response = here.post("/password/", {"old_password": "wrong", "new_password1": new, "new_password2": new})
    assert response.status_code == 400 and b'data-testid="error-old_password"' in response.content
    erin.refresh_from_db()
    assert erin.check_password(PASSWORD) and _api(alpha, token) == 200


def test_the_password_page_needs_a_login_and_a_csrf_token(alpha):
    assert Client(HTTP_HOST=alpha.domain).get("/password/").status_code == 302
    erin = _new_user(alpha, "erin")
    strict = Client(HTTP_HOST=alpha.domain, enforce_csrf_checks=True)
    strict.force_login(erin)
    new = "a-fresh-secret-9481"
    response = strict.post("/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert response.status_code == 403
