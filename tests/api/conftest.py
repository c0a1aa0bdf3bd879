import pytest
from rest_framework.test import APIClient

from tests.factories import api_token


@pytest.fixture
def api_for():
    """api_for(world, user=None, token=True) -> an API client on the world's host (token auth by default)."""

    def make(world, user=None, token=True):
        client = APIClient(HTTP_HOST=world.domain)
        if user is not None:
            world.activate()
            if token:
                key = api_token(user)
                client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
            else:
                client.force_login(user)
        return client

    return make
