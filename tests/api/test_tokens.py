"""API tokens: issued once, revocable by their owner, throttled per tenant and client address."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from knox.settings import CONSTANTS

from tests.factories import api_token
from tests.world import PASSWORD


def _status_with(world, token: str) -> int:
    return Client(HTTP_HOST=world.domain, HTTP_AUTHORIZATION=f"Token {token}").get("/api/complaints/").status_code


def test_the_token_endpoint_issues_a_working_token_shown_once(alpha):
    response = Client(HTTP_HOST=alpha.domain).post("/api/auth/token/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expiry"}
    api = Client(HTTP_HOST=alpha.domain, HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert api.get("/api/complaints/").status_code == 200
    assert AuthToken.objects.filter(user=alpha.alice).count() == 1


def test_a_user_revokes_its_own_token_or_all_of_them(alpha):
    first, second, third = api_token(alpha.alice), api_token(alpha.alice), api_token(alpha.alice)
    bobs = api_token(alpha.bob)
    as_first = Client(HTTP_HOST=alpha.domain, HTTP_AUTHORIZATION=f"Token {first}")
    assert as_first.post("/api/auth/token/revoke/").status_code == 204
    assert as_first.get("/api/complaints/").status_code == 401
    assert AuthToken.objects.filter(user=alpha.alice).count() == 2
    as_second = Client(HTTP_HOST=alpha.domain, HTTP_AUTHORIZATION=f"Token {second}")
    response = as_second.post("/api/auth/token/revoke/", {"all": True}, content_type="application/json")
    assert response.status_code == 204
    assert AuthToken.objects.filter(user=alpha.alice).count() == 0
    assert _status_with(alpha, third) == 401
    assert _status_with(alpha, bobs) == 200


def test_a_token_of_one_tenant_is_unknown_on_another(alpha, beta):
    token = api_token(alpha.alice)
    response = Client(HTTP_HOST=beta.domain, HTTP_AUTHORIZATION=f"Token {token}").get("/api/complaints/")
    assert response.status_code == 401


def test_schema_and_docs_need_a_login(alpha):
    anonymous = Client(HTTP_HOST=alpha.domain)
    assert anonymous.get("/api/schema/").status_code == 401
    assert anonymous.get("/api/docs/").status_code == 401
    signed_in = Client(HTTP_HOST=alpha.domain, HTTP_AUTHORIZATION=f"Token {api_token(alpha.alice)}")
    assert signed_in.get("/api/schema/").status_code == 200


def test_an_expired_token_is_refused_and_a_new_token_deletes_its_owners_expired_ones_only(alpha):
    expired, kept, bobs = api_token(alpha.alice), api_token(alpha.alice), api_token(alpha.bob)
    past = timezone.now() - timedelta(seconds=1)

    def of(*tokens: str):
        return AuthToken.objects.filter(token_key__in=[t[: CONSTANTS.TOKEN_KEY_LENGTH] for t in tokens])

    of(expired, bobs).update(expiry=past)
    assert _status_with(alpha, expired) == 401
    assert _status_with(alpha, kept) == 200
    assert AuthToken.objects.filter(user=alpha.alice).count() == 1  # the refused one is deleted, as knox does
    of(kept).update(expiry=past)
    api_token(alpha.alice)
    assert AuthToken.objects.filter(user=alpha.alice, expiry__lt=timezone.now()).count() == 0
    assert AuthToken.objects.filter(user=alpha.bob).count() == 1  # another user's expired token is theirs to lose
