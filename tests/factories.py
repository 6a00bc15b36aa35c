from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factory
from django.utils import timezone

from crm.models import Membership, User, Workspace
from interactions.models import Interaction
from people import stay_in_touch
from people.models import Company, Person

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Faker("name")
    time_zone = "Europe/London"
    # Chosen, as after a first page (crm.middleware presets an empty one from the browser, once).
    date_style = "en-gb"

    @classmethod
    def _create(cls, model_class: type[User], *args: object, **kwargs: object) -> User:
        password = kwargs.pop("password", PASSWORD)
        return model_class.objects.create_user(*args, password=password, **kwargs)


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Faker("company")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.MEMBER


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Company {n}")


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person
        skip_postgeneration_save = True

    workspace = factory.SubFactory(WorkspaceFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    company = factory.SubFactory(CompanyFactory, workspace=factory.SelfAttribute("..workspace"))

    @factory.post_generation
    def tags(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        self._factory_tagged = bool(create and extracted)  # read by stay_due, which runs next
        if create and extracted:
            from people.services import tags_for_names

            self.tags.set(tags_for_names(self.workspace, extracted))

    @factory.post_generation
    def stay_due(self, create: bool, extracted: object, **kwargs: object) -> None:
        """As the services do after writing a person: keep the stored stay-in-touch due instant."""
        # Without a cadence of their own or tags (whose defaults could give one) the due instant
        # is null, as the row was inserted: two queries saved for most people a test creates.
        if create and (self.cadence is not None or self._factory_tagged):
            from people.stay_in_touch import people_refresh_stay_due

            people_refresh_stay_due(Person.objects.filter(pk=self.pk))
            self.refresh_from_db(fields=["stay_due_at"])


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction
        skip_postgeneration_save = True

    workspace = factory.SubFactory(WorkspaceFactory)
    summary = factory.Faker("sentence", nb_words=5)
    occurred_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def people(self, create: bool, extracted: list[Person] | None, **kwargs: object) -> None:
        if create and extracted:
            self.people.set(extracted)


def cadenced_person(
    workspace: Workspace, owner: User, name: str, last_days_ago: int, every: int = 2, unit: str = "weeks"
) -> Person:
    """Someone to stay in touch with every ``every`` ``unit``, last contacted ``last_days_ago`` days ago."""

    person = PersonFactory(
        workspace=workspace,
        first_name=name,
        owner=owner,
        last_contacted_at=timezone.now() - timedelta(days=last_days_ago),
        created_at=timezone.now() - timedelta(days=400),
    )
    return stay_in_touch.person_set_preferences(person=person, contact_every=every, contact_every_unit=unit)


def daily_digest_member(workspace: Workspace, email: str) -> User:
    """A member whose daily digest (midnight UTC, sent even when empty) is due whenever asked."""
    user = UserFactory(
        email=email,
        time_zone="UTC",
        digest=User.Digest.DAILY,
        digest_hour=0,
        digest_always=True,
        digest_since=datetime(2020, 1, 1, tzinfo=UTC),
    )
    Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.MEMBER)
    return user
