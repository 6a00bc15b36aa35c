from __future__ import annotations

from django.urls import path

from digests import views

app_name = "digests"

urlpatterns = [
    path("preview/", views.preview, name="preview"),
    path("test/", views.send_test, name="send_test"),
    path("a/<str:token>/", views.action, name="action"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
