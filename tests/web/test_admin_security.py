"""A tenant's admin manages its own tenant's users and roles, and nothing of the platform (issue: a tenant admin
could make itself a platform superuser through the shared admin site)."""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from knox.models import AuthToken

from complaints.roles import Role, user_role
from helpdesk.tenancy import connection
from tenants.models import Domain
from tests.factories import api_token


def _change_form(user, **overrides) -> dict:
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "role": user_role(user),
        # What the attack adds: none of these is a field of the tenant's user form.
        "is_superuser": "on",
        "is_staff": "on",
        "user_permissions": ["1", "2", "3"],
        "groups": ["1", "2", "3"],
    }
    data.update(overrides)
    return data


def test_tenant_admin_cannot_grant_superuser_staff_or_raw_permissions(client_for, alpha):
    client = client_for(alpha, alpha.ada)
    for target in (alpha.alice, alpha.ada):  # someone else, and itself
        response = client.post(f"/admin/auth/user/{target.pk}/change/", _change_form(target))
        assert response.status_code == 302, response.content[:2000]
        target.refresh_from_db()
        assert target.is_superuser is False
        assert target.user_permissions.count() == 0
    alpha.alice.refresh_from_db()
    assert alpha.alice.is_staff is False and user_role(alpha.alice) == Role.AGENT  # role unchanged: agent


def test_the_tenant_user_form_offers_roles_not_superuser_or_permissions(client_for, alpha):
    html = client_for(alpha, alpha.ada).get(f"/admin/auth/user/{alpha.alice.pk}/change/").content.decode()
    assert 'name="role"' in html
    for field in ('name="is_superuser"', 'name="user_permissions"', 'name="groups"', 'name="is_staff"'):
        assert field not in html


def test_tenant_admin_sets_roles_and_staff_follows_the_role(client_for, alpha):
    client = client_for(alpha, alpha.ada)
    bob = alpha.bob
    form = _change_form(bob, role=Role.ADMIN)
    assert client.post(f"/admin/auth/user/{bob.pk}/change/", form).status_code == 302
    bob.refresh_from_db()
    assert user_role(bob) == Role.ADMIN and bob.is_staff and not bob.is_superuser
    assert client.post(f"/admin/auth/user/{bob.pk}/change/", _change_form(bob, role=Role.AGENT)).status_code == 302
    bob.refresh_from_db()
    assert user_role(bob) == Role.AGENT and not bob.is_staff


def test_tenant_admin_cannot_demote_or_deactivate_itself(client_for, alpha):
    client = client_for(alpha, alpha.ada)
    response = client.post(f"/admin/auth/user/{alpha.ada.pk}/change/", _change_form(alpha.ada, role=Role.AGENT))
    assert response.status_code == 200 and "cannot remove your own admin role" in response.content.decode()
    alpha.ada.refresh_from_db()
    assert user_role(alpha.ada) == Role.ADMIN and alpha.ada.is_staff


def test_tenant_admin_adds_a_user_with_a_role(client_for, alpha):
    response = client_for(alpha, alpha.ada).post(
        "/admin/auth/user/add/",
        {"username": "newbie", "role": Role.MANAGER, "password1": "Long-pass-4321", "password2": "Long-pass-4321"},
    )
    assert response.status_code == 302
    newbie = User.objects.get(username="newbie")
    assert user_role(newbie) == Role.MANAGER and not newbie.is_staff and not newbie.is_superuser


PLATFORM_URLS = [
    "/admin/tenants/tenant/",
    "/admin/tenants/domain/",
    "/admin/tenants/domain/{domain}/change/",
    "/admin/authtoken/tokenproxy/",
    "/admin/knox/authtoken/",
    "/admin/auth/group/",
]


@pytest.mark.parametrize("url", PLATFORM_URLS)
def test_platform_models_have_no_url_on_a_tenant_host_even_for_a_tenant_superuser(client_for, alpha, url):
    alpha.ada.is_superuser = True  # as if the escalation had happened some other way
    alpha.ada.save()
    domain = Domain.objects.get(domain="beta.localhost")
    response = client_for(alpha, alpha.ada).get(url.format(domain=domain.pk))
    assert response.status_code == 404


def test_a_domain_cannot_be_moved_from_a_tenant_host(client_for, alpha, beta):
    domain = Domain.objects.get(domain="beta.localhost")
    alpha.ada.is_superuser = True
    alpha.ada.save()
    response = client_for(alpha, alpha.ada).post(
        f"/admin/tenants/domain/{domain.pk}/change/",
        {"domain": "beta.localhost", "tenant": alpha.tenant.pk, "is_primary": "on"},
    )
    assert response.status_code == 404
    domain.refresh_from_db()
    assert domain.tenant_id == beta.tenant.pk


def test_a_tenant_session_does_not_open_the_platform_admin(client_for, alpha):
    tenant_client = client_for(alpha, alpha.ada)
    public = Client(HTTP_HOST="localhost")
    public.cookies = tenant_client.cookies
    connection.set_schema_to_public()
    response = public.get("/admin/tenants/tenant/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_api_tokens_are_stored_as_digests_and_never_listed(client_for, alpha):
    token = api_token(alpha.alice)
    stored = AuthToken.objects.get(user=alpha.alice)
    assert token not in (stored.digest, stored.token_key) and len(stored.token_key) < len(token)
    html = client_for(alpha, alpha.ada).get("/admin/auth/user/").content.decode()
    assert token not in html and token[8:] not in html


def test_tenant_admin_revokes_a_users_api_tokens(client_for, alpha):
    token = api_token(alpha.alice)
    api_token(alpha.alice)
    api = Client(HTTP_HOST=alpha.domain, HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/complaints/").status_code == 200
    response = client_for(alpha, alpha.ada).post(
        "/admin/auth/user/", {"action": "revoke_api_tokens", "_selected_action": [alpha.alice.pk]}, follow=True
    )
    assert "2 API token(s) revoked." in response.content.decode()
    assert AuthToken.objects.filter(user=alpha.alice).count() == 0
    assert api.get("/api/complaints/").status_code == 401


def test_tenant_admin_sees_domain_events(client_for, alpha):
    assert client_for(alpha, alpha.ada).get("/admin/complaints/outboxevent/").status_code == 200


# Issue 26 #3: a NUL in a list filter's value went to PostgreSQL as given (500).
TENANT_ADMIN_LISTS_WITH_NUL = [
    "/admin/complaints/complaint/?status__exact=%00",
    "/admin/complaints/complaint/?priority__exact=%00",
    "/admin/complaints/complaint/?channel__exact=%00",
    "/admin/complaints/complaint/?q=%00",
    "/admin/complaints/category/?q=a%00b",
    "/admin/complaints/outboxevent/?event_type__exact=%00",
    "/admin/auth/user/?groups__name=%00",
    "/admin/auth/user/?q=%00",
    "/admin/complaints/comment/?q=%00&o=1",
    "/admin/complaints/complaint/?st%00atus=new",
]


@pytest.mark.parametrize("url", TENANT_ADMIN_LISTS_WITH_NUL)
def test_a_nul_in_a_tenant_admin_list_parameter_is_a_400(client_for, alpha, url):
    client = client_for(alpha, alpha.ada)
    client.raise_request_exception = False
    assert client.get(url).status_code == 400


def test_a_nul_in_a_platform_admin_list_filter_is_a_400(db, worlds):
    from helpdesk.tenancy import connection

    connection.set_schema_to_public()
    root = User.objects.create_superuser("root", "root@example.com", "pw-root-123")
    client = Client(HTTP_HOST="localhost", raise_request_exception=False)
    client.force_login(root)
    for url in ("/admin/tenants/tenant/?time_zone=%00", "/admin/tenants/domain/?q=%00", "/admin/auth/user/?q=%00"):
        assert client.get(url).status_code == 400, url
    assert client.get("/admin/tenants/tenant/?time_zone=UTC").status_code == 200  # a sound filter still works


def test_sound_tenant_admin_filters_still_answer(client_for, alpha):
    client = client_for(alpha, alpha.ada)
    for url in ("/admin/complaints/complaint/?status__exact=new", "/admin/auth/user/?groups__name=agent"):
        assert client.get(url).status_code == 200, url
