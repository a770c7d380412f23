"""factory-boy factories shared by the test suite."""

import factory
from django.contrib.auth.models import Group, Permission, User


class EventPayloadFactory(factory.DictFactory):
    """A valid charge_succeeded payload, as the processor would send it."""

    event_id = factory.Sequence(lambda n: f"evt_{n:06d}")
    event_type = "charge_succeeded"
    occurred_at = "2025-12-30T10:00:00Z"
    restaurant_id = "res_001"
    currency = "PEN"
    amount = 12000
    fee = 600
    metadata = factory.Sequence(lambda n: {"reservation_id": f"rsv_{n}", "payment_id": f"pay_{n:06d}"})


class RefundPayloadFactory(EventPayloadFactory):
    event_type = "refund_succeeded"
    amount = 5000
    fee = 0


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@mesa247.test")
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def perms(self, create, extracted, **kwargs):
        """UserFactory(perms=["ledger.view_restaurantbalance", …])"""
        if not create or not extracted:
            return
        for dotted in extracted:
            app_label, codename = dotted.split(".")
            self.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        """UserFactory(groups=["Finance manager"]): groups the data migrations made."""
        if not create or not extracted:
            return
        self.groups.add(*(Group.objects.get(name=name) for name in extracted))
