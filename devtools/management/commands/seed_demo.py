"""Create the demo user and a workspace of realistic people and conversations.

Small by default (for ``make run``); ``--people`` and ``--interactions`` make benchmark-sized
workspaces with bulk inserts (10,000 people and 200,000 interactions in well under two minutes).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone
from faker import Faker

from crm import services
from crm.models import Membership, User, Workspace
from interactions.models import FollowUp, Interaction, Need, NeedUpdate, Promise
from people.models import Company, ContactMethod, FamilyMember, Person, Pet, ProfileFact, Tag, TagCadence
from people.profile import FACT_TYPES, SECTION_OF
from people.stay_in_touch import cadence_duration, people_refresh_stay_due

DEMO_PASSWORD = "demo"  # noqa: S105 - printed on purpose: it is the demo login.
BATCH = 5000

SUMMARIES = {
    Interaction.Kind.CALL: [
        "Called about the {topic} renewal",
        "Quick call: {topic} questions",
        "Phoned to check in after the {topic} delivery",
    ],
    Interaction.Kind.MEETING: [
        "Lunch meeting about {topic}",
        "Quarterly review: {topic}",
        "Met at their office to plan {topic}",
    ],
    Interaction.Kind.EMAIL: ["Sent the {topic} quote", "Emailed notes on {topic}", "Answered their {topic} question"],
    Interaction.Kind.MESSAGE: ["Texted about {topic}", "Sent a text: {topic} follow-up"],
    Interaction.Kind.WHATSAPP: ["WhatsApp: {topic} follow-up", "Voice note on WhatsApp about {topic}"],
    Interaction.Kind.SIGNAL: ["Signal chat about {topic}"],
    Interaction.Kind.TELEGRAM: ["Telegram: photos of the {topic}"],
    Interaction.Kind.LINKEDIN: ["LinkedIn message about {topic}", "Congratulated them on LinkedIn; mentioned {topic}"],
    Interaction.Kind.VISIT: ["Dropped by the shop: {topic}", "Site visit for {topic}"],
    Interaction.Kind.VIDEO: ["Video call: {topic} demo", "Zoom about {topic} rollout"],
    Interaction.Kind.NOTE: ["Heard they are expanding {topic}", "Note: interested in {topic}"],
}
TOPICS = [
    "spring catalogue",
    "bulk order",
    "website redesign",
    "insurance",
    "new delivery van",
    "bakery supplies",
    "holiday menu",
    "payroll software",
    "office move",
    "loyalty programme",
    "trade fair",
    "packaging",
]
NOTES = [
    "Mentioned their daughter starts university in the autumn.",
    "Prefers a call in the morning before 10.",
    "Asked us to send the price list again.",
    "Dog was at the office: a very friendly beagle.",
    "Budget approved for next quarter.",
    "",
    "",
]

TAGS = ["key-account", "friend", "supplier", "new-lead", "vip", "local"]
INTERESTS = ["golf", "wine", "sailing", "sourdough", "football", "gardening", "jazz", "cycling"]
NEEDS = [
    ("Faster delivery before the holidays", "Their current supplier takes two weeks."),
    ("Cheaper packaging", "Margins are squeezed; wants recyclable boxes under 20p."),
    ("Online ordering for regulars", "Customers keep phoning orders in."),
    ("Staff training on the new oven", ""),
    ("Gluten-free range", "Several customers asked for it."),
]
PROMISES = [
    ("mine", "Send the updated price list"),
    ("mine", "Introduce them to our packaging supplier"),
    ("theirs", "Send last year's order history"),
    ("mine", "Drop off samples of the spring range"),
    ("theirs", "Confirm the delivery address"),
]
HOW_WE_MET = [
    "Trade fair in Birmingham",
    "Introduced by a customer",
    "Walked into the shop",
    "LinkedIn",
    "School gates",
]
PET_NAMES = ["Max", "Bella", "Luna", "Charlie", "Milo", "Daisy", "Rocky", "Poppy"]
FACT_VALUES = {
    "hometown": "Grew up in Leeds",
    "college": "University of Manchester",
    "degree": "Food science",
    "favourite_restaurant": "Dishoom, Covent Garden",
    "hobbies": "Sailing and sourdough",
    "sports_teams": "Arsenal",
    "vacation": "Camping in Cornwall every August",
    "long_term_goals": "Open a second shop",
    "immediate_concerns": "Rising flour prices",
    "health": "Bad back: avoid long site walks",
    "religion": "Observes Ramadan",
    "politics": "Local councillor",
    "topics_to_avoid": "Their divorce",
}


class Command(BaseCommand):
    help = "Create the demo user (demo@example.com / demo) with a realistic workspace."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", default="demo@example.com", help="Login of the demo user.")
        parser.add_argument("--people", type=int, default=60, help="Number of people to create.")
        parser.add_argument("--interactions", type=int, default=400, help="Number of interactions in total.")
        parser.add_argument("--seed", type=int, default=42, help="Random seed, for repeatable data.")
        parser.add_argument(
            "--skip-if-exists", action="store_true", help="Do nothing when the user already exists (first-run only)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["email"].lower()
        if options["skip_if_exists"] and User.objects.filter(email=email).exists():
            self.stdout.write(f"Demo data already loaded. Log in as {email} / {DEMO_PASSWORD}")
            return
        if options["people"] < 1 or options["interactions"] < 0:
            self.stderr.write("--people must be at least 1 and --interactions at least 0.")
            raise SystemExit(2)
        rng = random.Random(options["seed"])
        fake = Faker(["en_GB", "en_US"])
        fake.seed_instance(options["seed"])
        now = timezone.now()

        with transaction.atomic():
            user, workspace = self._user_and_workspace(email)
            teammate = self._teammate(workspace, email)
            people = self._people(
                workspace, [user, teammate], options["people"], options["interactions"], rng, fake, now
            )
            self._interactions(workspace, user, people, options["interactions"], rng, now)
            self._open_items(workspace, user, people, rng, now)
            people_refresh_stay_due(Person.objects.for_workspace(workspace))

        self.stdout.write(
            self.style.SUCCESS(
                f"Demo workspace “{workspace}”: {len(people)} people, {options['interactions']} interactions.\n"
                f"Log in as {email} / {DEMO_PASSWORD}"
            )
        )

    def _user_and_workspace(self, email: str) -> tuple[User, Workspace]:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User(email=email, display_name="Dana Demo", time_zone="Europe/London")
            user.set_password(DEMO_PASSWORD)
            user.save()
        workspace = services.workspace_create(user=user, name="Demo Bakery Supplies")
        return user, workspace

    def _teammate(self, workspace: Workspace, email: str) -> User:
        local, _, domain = email.partition("@")
        teammate, created = User.objects.get_or_create(
            email=f"{local}+teammate@{domain}", defaults={"display_name": "Sam Teammate", "time_zone": "Europe/London"}
        )
        if created:
            teammate.set_password(DEMO_PASSWORD)
            teammate.current_workspace = workspace
            teammate.save()
        Membership.objects.get_or_create(workspace=workspace, user=teammate, defaults={"role": Membership.Role.MEMBER})
        return teammate

    def _people(
        self,
        workspace: Workspace,
        owners: list[User],
        count: int,
        interaction_count: int,
        rng: random.Random,
        fake: Faker,
        now: datetime,
    ) -> list[Person]:
        # Keyed by the lower-cased name: the unique constraint ignores case, and at 100,000 people
        # Faker draws both "Smith Ltd" and "smith ltd"-alike names often enough to abort the seed.
        names = {name.lower(): name for name in (fake.company() for _ in range(max(5, count // 8)))}
        companies = Company.objects.bulk_create([Company(workspace=workspace, name=name) for name in names.values()])
        tags = Tag.objects.bulk_create([Tag(workspace=workspace, name=name) for name in TAGS])
        interests = Tag.objects.bulk_create(
            [Tag(workspace=workspace, name=name, kind=Tag.Kind.INTEREST) for name in INTERESTS]
        )
        today = now.date()
        people = []
        for i in range(count):
            first, last = fake.first_name(), fake.last_name()
            person = Person(
                workspace=workspace,
                first_name=first,
                last_name=last,
                nickname=first[:3] if rng.random() < 0.1 else "",
                company=rng.choice(companies) if rng.random() < 0.85 else None,
                job_title=fake.job()[:200] if rng.random() < 0.7 else "",
                how_we_met=rng.choice(HOW_WE_MET) if rng.random() < 0.5 else "",
                notes=rng.choice(NOTES),
                owner=owners[0] if i % 4 else owners[1],
                preferred_channel=rng.choice([*Person.Channel.values, ""]),
                best_time=rng.choice(["", "weekday mornings", "after 4pm", "Fridays"]),
                contact_every=(every := rng.choice([None, None, 2, 4, 6])),
                contact_every_unit=(unit := rng.choice(["weeks", "months"])),
                cadence=cadence_duration(every, unit),
                likes=rng.choice(["", "Good coffee, cycling", "Dark chocolate", "Italian food"]),
                created_at=now - timedelta(days=rng.randint(30, 900)),
            )
            # A few birthdays in the coming two weeks so "This week" has something to show.
            if i < 5:
                soon = today + timedelta(days=i * 3)
                birthday = soon.replace(year=soon.year - 30 - i) if (soon.month, soon.day) != (2, 29) else soon
            else:
                birthday = fake.date_of_birth(minimum_age=25, maximum_age=70)
            if i < 5 or rng.random() < 0.7:
                person.birthday_day, person.birthday_month = birthday.day, birthday.month
                person.birthday_year = None if rng.random() < 0.4 else birthday.year
            if rng.random() < 0.2:
                wedding = fake.date_between(start_date="-30y", end_date="-1y")
                person.anniversary_day, person.anniversary_month, person.anniversary_year = (
                    wedding.day,
                    wedding.month,
                    wedding.year,
                )
            people.append(person)
        Person.objects.bulk_create(people, batch_size=BATCH)
        people = list(Person.objects.for_workspace(workspace).order_by("id"))
        self._details(workspace, people, tags, interests, rng, fake)
        return people

    def _details(
        self,
        workspace: Workspace,
        people: list[Person],
        tags: list[Tag],
        interests: list[Tag],
        rng: random.Random,
        fake: Faker,
    ) -> None:
        """Contact methods, tags, family, pets, facts: a lived-in book of customers."""
        contacts, family, pets, facts = [], [], [], []
        tag_links: list[Any] = []  # rows of the people-tags link table
        tag_through = Person.tags.through
        fact_types = list(FACT_TYPES.values())
        for index, person in enumerate(people):
            email = f"{person.first_name}.{person.last_name}{index}@example.com".lower().replace(" ", "")
            contacts.append(
                ContactMethod(
                    workspace=workspace, person=person, kind="email", label="work", value=email, is_primary=True
                )
            )
            if rng.random() < 0.6:
                contacts.append(
                    ContactMethod(
                        workspace=workspace,
                        person=person,
                        kind="phone",
                        label="mobile",
                        value=f"+447700900{index % 1000:03d}",
                        is_primary=True,
                    )
                )
            if rng.random() < 0.2:
                contacts.append(
                    ContactMethod(
                        workspace=workspace, person=person, kind="address", label="office", value=fake.address()[:500]
                    )
                )
            if person.preferred_channel == Person.Channel.LINKEDIN:  # where "prefers LinkedIn message" reaches them
                slug = f"{person.first_name}-{person.last_name}-{index}".lower().replace(" ", "")
                contacts.append(
                    ContactMethod(
                        workspace=workspace,
                        person=person,
                        kind="social",
                        label="LinkedIn",
                        value=f"linkedin.com/in/{slug}",
                    )
                )
            chosen = rng.sample(tags, k=rng.choice([0, 1, 1, 2])) + rng.sample(interests, k=rng.choice([0, 1, 2]))
            tag_links.extend(tag_through(person_id=person.pk, tag_id=tag.pk) for tag in chosen)
            if rng.random() < 0.5:
                spouse = fake.first_name()
                family.append(
                    FamilyMember(
                        workspace=workspace,
                        person=person,
                        relation="spouse",
                        name=spouse,
                        interests=rng.choice(["", "tennis", "painting", "running"]),
                    )
                )
            for _ in range(rng.choice([0, 0, 1, 2, 3])):
                born = fake.date_of_birth(minimum_age=1, maximum_age=25)
                family.append(
                    FamilyMember(
                        workspace=workspace,
                        person=person,
                        relation="child",
                        name=fake.first_name(),
                        birthday_day=born.day,
                        birthday_month=born.month,
                        birthday_year=born.year if rng.random() < 0.7 else None,
                        interests=rng.choice(["", "football", "piano", "dinosaurs", "horses"]),
                    )
                )
            if rng.random() < 0.3:
                born = fake.date_between(start_date="-14y", end_date="-1y")
                pets.append(
                    Pet(
                        workspace=workspace,
                        person=person,
                        name=rng.choice(PET_NAMES),
                        species=rng.choice(["dog", "cat", "horse", "rabbit"]),
                        birthday_day=born.day,
                        birthday_month=born.month,
                        birthday_year=born.year,
                    )
                )
            for fact_type in rng.sample(fact_types, k=rng.randint(0, 6)):
                facts.append(
                    ProfileFact(
                        workspace=workspace,
                        person=person,
                        fact_type=fact_type.key,
                        section=SECTION_OF[fact_type.key],
                        is_private=fact_type.private,
                        value=FACT_VALUES.get(fact_type.key, "Mentioned it over coffee"),
                        learned_on=(learned := fake.date_between(start_date="-2y", end_date="today")),
                        created_at=datetime.combine(learned, time(12), tzinfo=UTC),
                    )
                )
        ContactMethod.objects.bulk_create(contacts, batch_size=BATCH)
        tag_through.objects.bulk_create(tag_links, batch_size=BATCH, ignore_conflicts=True)
        FamilyMember.objects.bulk_create(family, batch_size=BATCH)
        Pet.objects.bulk_create(pets, batch_size=BATCH)
        ProfileFact.objects.bulk_create(facts, batch_size=BATCH)
        if len(people) >= 2:
            # Two people in the book are family: shown both ways on their pages.
            FamilyMember.objects.create(
                workspace=workspace,
                person=people[0],
                relation="child",
                name=people[1].full_name,
                linked_person=people[1],
            )

    def _open_items(
        self, workspace: Workspace, user: User, people: list[Person], rng: random.Random, now: datetime
    ) -> None:
        """Needs (with history), promises (some overdue) and follow-ups (some due this week)."""
        today = now.date()
        needs, promises, follow_ups = [], [], []
        for index, person in enumerate(people):
            if index % 5 == 0:
                title, details = rng.choice(NEEDS)
                status = rng.choice(["open", "open", "in_progress", "solved"])
                opened = today - timedelta(days=rng.randint(5, 300))
                needs.append(
                    Need(
                        workspace=workspace,
                        person=person,
                        title=title,
                        details=details,
                        status=status,
                        opened_on=opened,
                        solved_on=today - timedelta(days=2) if status == "solved" else None,
                    )
                )
            if index % 7 == 0:
                direction, text = rng.choice(PROMISES)
                promises.append(
                    Promise(
                        workspace=workspace,
                        person=person,
                        direction=direction,
                        text=text,
                        made_by_id=person.owner_id,
                        due_on=today + timedelta(days=rng.randint(-10, 20)),
                    )
                )
            if index % 9 == 0:
                days = rng.randint(-5, 12)
                # The demo user's first one is due tomorrow, so "the week ahead" is never empty
                # whatever the random draws (tomorrow is in it on every day of the week).
                days = 1 if index == 9 else days
                follow_ups.append(
                    FollowUp(
                        workspace=workspace,
                        person=person,
                        due_on=today + timedelta(days=days),
                        repeat_every=rng.choice([None, None, 1, 3]),
                        repeat_unit="months",
                        note=rng.choice(
                            ["Call back about the quote", "Check the samples arrived", "Ask how the launch went"]
                        ),
                        created_by=user,
                    )
                )
        Need.objects.bulk_create(needs, batch_size=BATCH)
        NeedUpdate.objects.bulk_create(
            [
                NeedUpdate(
                    workspace=workspace, need=n, status="open", at=now - timedelta(days=(today - n.opened_on).days)
                )
                for n in needs
            ]
            + [
                NeedUpdate(workspace=workspace, need=n, status=n.status, at=now - timedelta(days=1))
                for n in needs
                if n.status != "open"
            ],
            batch_size=BATCH,
        )
        Promise.objects.bulk_create(promises, batch_size=BATCH)
        FollowUp.objects.bulk_create(follow_ups, batch_size=BATCH)
        for name, every, unit in (("key-account", 2, "weeks"), ("friend", 3, "months")):
            tag = Tag.objects.for_workspace(workspace).get(name=name, kind=Tag.Kind.LABEL)
            TagCadence.objects.create(
                workspace=workspace, tag=tag, every=every, unit=unit, duration=cadence_duration(every, unit)
            )

    def _interactions(
        self, workspace: Workspace, user: User, people: list[Person], total: int, rng: random.Random, now: datetime
    ) -> None:
        kinds = list(SUMMARIES)
        through = Interaction.people.through
        last_contacted: dict[int, datetime] = {}
        for start in range(0, total, BATCH):
            size = min(BATCH, total - start)
            batch = []
            for _ in range(size):
                kind = rng.choice(kinds)
                # Recent weeks are busier than two years ago, as in a real book of customers.
                occurred = now - timedelta(minutes=int(rng.triangular(0, 730, 0) * 24 * 60))
                batch.append(
                    Interaction(
                        workspace=workspace,
                        kind=kind,
                        occurred_at=occurred,
                        summary=rng.choice(SUMMARIES[kind]).format(topic=rng.choice(TOPICS)),
                        notes=rng.choice(NOTES),
                        created_by=user,
                        created_at=occurred,
                    )
                )
            Interaction.objects.bulk_create(batch, batch_size=BATCH)
            links = []
            for interaction in batch:
                # Most conversations are with one person, some with two (a couple, two colleagues).
                for person in rng.sample(people, k=2 if rng.random() < 0.1 and len(people) > 1 else 1):
                    links.append(through(interaction_id=interaction.pk, person_id=person.pk))
                    if interaction.occurred_at > last_contacted.get(person.pk, interaction.occurred_at - timedelta(1)):
                        last_contacted[person.pk] = interaction.occurred_at
            through.objects.bulk_create(links, batch_size=BATCH)
        for person in people:
            person.last_contacted_at = last_contacted.get(person.pk)
        Person.objects.bulk_update(people, ["last_contacted_at"], batch_size=1000)
