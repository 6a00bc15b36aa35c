from __future__ import annotations

from django.urls import path

from reminders import views

app_name = "reminders"

urlpatterns = [
    path("calendar/", views.calendar_view, name="calendar"),
    path("notifications/", views.notifications, name="notifications"),
    path("follow-ups/<int:pk>/done/", views.follow_up_done, name="follow_up_done"),
    path("follow-ups/<int:pk>/snooze/", views.follow_up_snooze, name="follow_up_snooze"),
    path("follow-ups/<int:pk>/undo/", views.follow_up_undo, name="follow_up_undo"),
    path("follow-ups/<int:pk>/edit/", views.follow_up_edit, name="follow_up_edit"),
    path("follow-ups/<int:pk>/delete/", views.follow_up_delete, name="follow_up_delete"),
    path("people/<int:person_pk>/follow-ups/new/", views.follow_up_create, name="follow_up_create"),
    path("people/<int:person_pk>/snooze/", views.cadence_snooze, name="cadence_snooze"),
    path("people/<int:person_pk>/snooze/undo/", views.cadence_snooze_undo, name="cadence_snooze_undo"),
    path("dates/done/", views.date_dismiss, name="date_dismiss"),
    path("dates/done/undo/", views.date_undo, name="date_undo"),
    path("cadences/", views.tag_cadences, name="cadences"),
    path("cadences/<int:pk>/delete/", views.tag_cadence_delete, name="cadence_delete"),
]
