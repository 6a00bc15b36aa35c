"""The customer profile in the seven sections of Harvey Mackay's "Mackay 66".

Each section holds typed facts that are learned one at a time. Facts of sensitive kinds
(health, religion, politics, topics to avoid) are private: they never appear in list views,
CSV exports or digests.

Some of what a section asks is kept in the person's record instead (family members, pets,
birthday, company, preferences): those ``RECORDED`` items count as known from the record, so
the profile never asks for what the person page already shows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FactType:
    key: str
    label: str
    prompt: str
    private: bool = False
    # A recorded item: filled in on this page of the person (a ``people:`` URL name taking the
    # person's id), not typed as a fact.
    edit_url: str = ""


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    fact_types: tuple[FactType, ...]
    recorded: tuple[FactType, ...] = ()

    @property
    def items(self) -> tuple[FactType, ...]:
        """What the section asks: the record's items first, as the page shows them first."""
        return self.recorded + self.fact_types


SECTIONS: tuple[Section, ...] = (
    Section(
        "basics",
        "Basics",
        (
            FactType("hometown", "Hometown", "Where did they grow up?"),
            FactType("residence", "Where they live", "Which town or neighbourhood do they live in?"),
            FactType("languages", "Languages", "Which languages do they speak?"),
            FactType("status_symbols", "Status symbols", "What do they take pride in owning or showing?"),
            FactType("health", "Health", "Any health matters to be mindful of?", private=True),
        ),
        (FactType("birthday", "Birthday", "When is their birthday?", edit_url="people:edit"),),
    ),
    Section(
        "education",
        "Education",
        (
            FactType("high_school", "School", "Which school did they go to?"),
            FactType("college", "College or university", "Where did they study?"),
            FactType("degree", "Degree", "What did they study?"),
            FactType("college_activities", "Activities at college", "Clubs, sports or societies at college?"),
            FactType("military_service", "Military service", "Did they serve? Where, and in what rank?"),
        ),
    ),
    Section(
        "family",
        "Family",
        (
            FactType("marital_status", "Marital status", "Married, partnered, single?"),
            FactType("spouse_occupation", "Spouse's occupation", "What does their partner do?"),
            FactType("spouse_interests", "Spouse's interests", "What does their partner enjoy?"),
            FactType("children_education", "Children's schooling", "Where do their children go to school?"),
            FactType("family_plans", "Family plans", "Anything coming up: a wedding, a move, a new baby?"),
        ),
        (
            FactType("children", "Children", "Do they have children? What are their names?", edit_url="people:family"),
            FactType("pets", "Pets", "Any pets? What are they called?", edit_url="people:pets"),
            FactType("anniversary", "Anniversary", "Is there an anniversary to remember?", edit_url="people:edit"),
        ),
    ),
    Section(
        "business",
        "Business background",
        (
            FactType("previous_employers", "Previous employers", "Where did they work before?"),
            FactType("career_path", "Career path", "How did they get to where they are?"),
            FactType("career_goals", "Career goals", "Where do they want to be in five years?"),
            FactType("associations", "Professional associations", "Which trade bodies or networks are they in?"),
            FactType("decision_role", "Role in decisions", "What do they decide, and who else is involved?"),
            FactType("office_notes", "Office and workplace", "What is on their wall or desk?"),
        ),
        (FactType("company", "Company and role", "Where do they work, and what do they do?", edit_url="people:edit"),),
    ),
    Section(
        "interests",
        "Special interests",
        (
            FactType("clubs", "Clubs and memberships", "Which clubs or groups are they part of?"),
            FactType("community", "Community activities", "Volunteering, charities, local causes?"),
            FactType("topics", "Topics they love", "What can they talk about for hours?"),
            FactType("politics", "Political views", "Anything about politics worth remembering?", private=True),
            FactType("religion", "Religion", "Religious practices to respect?", private=True),
        ),
        (FactType("interests", "Interests", "What are they interested in?", edit_url="people:edit"),),
    ),
    Section(
        "lifestyle",
        "Lifestyle",
        (
            FactType("favourite_restaurant", "Favourite restaurant", "Where do they like to eat?"),
            FactType("favourite_food", "Favourite food and drink", "What do they order?"),
            FactType("hobbies", "Hobbies", "What do they do at the weekend?"),
            FactType("sports_teams", "Sports teams", "Which teams do they follow?"),
            FactType("vacation", "Holidays", "Where do they like to go on holiday?"),
            FactType("reading", "Books and media", "What are they reading or watching?"),
        ),
        (FactType("likes", "Likes and dislikes", "What do they like, and what not?", edit_url="people:preferences"),),
    ),
    Section(
        "relationship",
        "The customer and you",
        (
            FactType("how_they_see_us", "How they see us", "What do they think of us and our company?"),
            FactType("long_term_goals", "Long-term goals", "What are they trying to achieve?"),
            FactType("immediate_concerns", "Immediate concerns", "What worries them right now?"),
            FactType("competitors", "Other suppliers", "Who else do they work with?"),
            FactType("obligations", "What we owe each other", "Favours, introductions, promises?"),
            FactType("topics_to_avoid", "Topics to avoid", "Anything not to bring up?", private=True),
        ),
        (
            FactType("how_we_met", "How we met", "How did you meet?", edit_url="people:edit"),
            FactType(
                "contact_preferences",
                "How to reach them",
                "How and when do they like to be contacted?",
                edit_url="people:preferences",
            ),
        ),
    ),
)

FACT_TYPES = {ft.key: ft for section in SECTIONS for ft in section.fact_types}
SECTION_OF = {ft.key: section.key for section in SECTIONS for ft in section.fact_types}
FACT_TYPE_CHOICES = [(section.label, [(ft.key, ft.label) for ft in section.fact_types]) for section in SECTIONS]


@dataclass(frozen=True)
class SectionProgress:
    section: Section
    known: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.known / self.total) if self.total else 0


@dataclass(frozen=True)
class Completeness:
    sections: tuple[SectionProgress, ...]
    next_to_learn: FactType | None
    next_section: Section | None

    @property
    def percent(self) -> int:
        total = sum(s.total for s in self.sections)
        return round(100 * sum(s.known for s in self.sections) / total) if total else 0


def completeness(known: set[str]) -> Completeness:
    """How much of each section is known, and the next thing to learn from the emptiest one.

    ``known``: the fact types with a fact and the recorded items the record holds (the keys
    of ``people.selectors.recorded_profile``). Private kinds are never suggested: nobody
    should be nudged to ask about health or faith.
    """
    progress = tuple(
        SectionProgress(
            section=section,
            known=sum(1 for item in section.items if item.key in known),
            total=len(section.items),
        )
        for section in SECTIONS
    )
    candidates = [
        (p.known / p.total, index, p.section)
        for index, p in enumerate(progress)
        if any(item.key not in known and not item.private for item in p.section.items)
    ]
    if not candidates:
        return Completeness(progress, None, None)
    _, _, section = min(candidates)
    next_item = next(item for item in section.items if item.key not in known and not item.private)
    return Completeness(progress, next_item, section)
