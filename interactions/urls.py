from __future__ import annotations

from django.urls import path

from interactions import views

app_name = "interactions"

urlpatterns = [
    path("", views.interaction_index, name="list"),
]
