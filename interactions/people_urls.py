"""The people pages, at /people/ under the ``people:`` namespace.

Served from here, not from people/, because some of these pages show or remove conversations
(the list, the person page, bulk actions, delete, merge: ``person_views``) and people may not
import interactions (the layers in pyproject.toml). The pages that need only people stay in
people/views.py; a new people page goes in whichever of the two is the lowest it can be.
"""

from __future__ import annotations

from django.urls import path

from interactions import person_views
from people import views

app_name = "people"

urlpatterns = [
    path("", person_views.person_list, name="list"),
    path("new/", views.person_create, name="create"),
    path("bulk/", person_views.person_bulk, name="bulk"),
    path("tags/", views.tag_suggestions, name="tag_suggestions"),
    path("autocomplete/", views.person_autocomplete, name="autocomplete"),
    path("companies/", views.company_list, name="companies"),
    path("companies/<int:pk>/", views.company_detail, name="company"),
    path("<int:pk>/", person_views.person_detail, name="detail"),
    path("<int:pk>/edit/", views.person_edit, name="edit"),
    path("<int:pk>/history/", views.person_history, name="history"),
    path("<int:pk>/family/", views.person_family, name="family"),
    path("<int:pk>/pets/", views.person_pets, name="pets"),
    path("<int:pk>/preferences/", views.person_preferences, name="preferences"),
    path("<int:pk>/profile/", views.person_profile, name="profile"),
    path("<int:pk>/profile/<int:fact_id>/delete/", views.fact_delete, name="fact_delete"),
    path("<int:pk>/archive/", views.person_archive, name="archive"),
    path("<int:pk>/restore/", views.person_restore, name="restore"),
    path("<int:pk>/delete/", person_views.person_delete, name="delete"),
    path("<int:pk>/merge/", person_views.person_merge, name="merge"),
    path("<int:pk>/photo/", views.person_photo, name="photo"),
]
