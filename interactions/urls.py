from __future__ import annotations

from django.urls import path

from interactions import views

app_name = "interactions"

urlpatterns = [
    path("", views.interaction_index, name="list"),
    path("new/", views.interaction_create, name="create"),
    path("quick/", views.quick_log, name="quick"),
    path("<int:pk>/edit/", views.interaction_edit, name="edit"),
    path("<int:pk>/delete/", views.interaction_delete, name="delete"),
    path("needs/", views.need_list, name="needs"),
    path("needs/<int:pk>/", views.need_detail, name="need"),
    path("needs/<int:pk>/status/", views.need_status, name="need_status"),
    path("people/<int:person_pk>/needs/new/", views.need_create, name="need_create"),
    path("people/<int:person_pk>/promises/new/", views.promise_create, name="promise_create"),
    path("promises/<int:pk>/keep/", views.promise_keep, name="promise_keep"),
    path("interested/", views.interested, name="interested"),
    path("search/", views.note_search, name="search"),
]
