"""factory_boy factories that go through the services, as every real write does."""

import factory

from complaints import services
from complaints.models import Channel, Priority


class ComplaintFactory(factory.Factory):
    """ComplaintFactory(actor=user, category=cat, ...) -> a submitted Complaint (status new)."""

    class Meta:
        model = dict

    title = factory.Sequence(lambda n: f"Complaint {n}")
    description = factory.Faker("paragraph")
    customer_name = factory.Faker("name")
    customer_email = factory.Faker("email")
    priority = Priority.MEDIUM
    channel = Channel.WEB

    @classmethod
    def _create(cls, model_class, *, actor, category, **kwargs):
        return services.complaint_submit(actor=actor, category=category, **kwargs)


def api_token(user) -> str:
    """A new API token for `user` (in the current schema), as the token endpoint issues it."""
    from helpdesk.api.auth import api_token_create

    return api_token_create(user=user)[0]
