import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


@pytest.fixture
def api_for():
    """api_for(world, user=None, token=True) -> an API client on the world's host (token auth by default)."""

    def make(world, user=None, token=True):
        client = APIClient(HTTP_HOST=world.domain)
        if user is not None:
            world.activate()
            if token:
                key = Token.objects.get_or_create(user=user)[0].key
                client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
            else:
                client.force_login(user)
        return client

    return make
