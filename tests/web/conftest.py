import pytest
from django.test import Client


@pytest.fixture
def client_for():
    """client_for(world, user=None) -> a test client on the world's host, logged in as `user` if given."""

    def make(world, user=None, **kwargs):
        client = Client(HTTP_HOST=world.domain, **kwargs)
        if user is not None:
            world.activate()
            client.force_login(user)
        return client

    return make
