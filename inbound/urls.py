from __future__ import annotations

from django.urls import path

from inbound import views

app_name = "inbound"

urlpatterns = [
    path("", views.settings_page, name="settings"),
    path("rotate/", views.address_rotate, name="rotate"),
    path("senders/", views.sender_approve, name="sender_approve"),
    path("senders/<int:pk>/remove/", views.sender_remove, name="sender_remove"),
    path("messages/<int:pk>/", views.message_detail, name="message"),
    path("messages/<int:pk>/raw/", views.message_raw, name="message_raw"),
    path("messages/<int:pk>/attach/", views.message_attach, name="message_attach"),
    path("messages/<int:pk>/retry/", views.message_retry, name="message_retry"),
]
