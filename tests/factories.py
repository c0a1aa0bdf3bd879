"""factory_boy factories that go through the services, as every real write does."""

from typing import TYPE_CHECKING, Any

import factory

from complaints import services
from complaints.models import Channel, Complaint, Priority


class ComplaintFactory(factory.Factory[Complaint]):
    """ComplaintFactory(actor=user, category=cat, ...) -> a submitted Complaint (status new)."""

    if TYPE_CHECKING:
        # What calling the factory returns; factory_boy's metaclass makes that call, untyped (and mypy does not
        # read a metaclass's __call__).
        def __new__(cls, **kwargs: Any) -> Complaint: ...  # type: ignore[misc]  # not a ComplaintFactory, by design

    class Meta:
        model = dict

    title = factory.Sequence(lambda n: f"Complaint {n}")
    description = factory.Faker("paragraph")
    customer_name = factory.Faker("name")
    customer_email = factory.Faker("email")
    priority = Priority.MEDIUM
    # Every channel in turn (web, email, phone, api), so that no test relies on every complaint being a web one.
    channel = factory.Iterator(Channel.values)

    @classmethod
    def _create(cls, model_class, *, actor, category, **kwargs) -> Complaint:
        return services.complaint_submit(actor=actor, category=category, **kwargs)


def api_token(user) -> str:
    """A new API token for `user` (in the current schema), as the token endpoint issues it."""
    from helpdesk.api.auth import api_token_create

    return api_token_create(user=user)[0]
