"""/api/v1/: every route of the API, its schema and its docs; anything else under it a JSON 404."""

from __future__ import annotations

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from api import docs, people_views, work_views
from api.base import ApiView

app_name = "api"


class NotFoundView(ApiView):
    """Any other address under /api/: a problem document, not the HTML 404 page."""

    authentication_classes = ()
    permission_classes = ()
    throttle_classes = ()
    schema = None

    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        raise exceptions.NotFound()

    post = put = patch = delete = options = get


urlpatterns = [
    path("v1/people/", people_views.PeopleView.as_view(), name="people"),
    path("v1/people/<int:pk>/", people_views.PersonView.as_view(), name="person"),
    path("v1/people/<int:pk>/archive/", people_views.PersonArchiveView.as_view(), name="person_archive"),
    path("v1/people/<int:pk>/restore/", people_views.PersonRestoreView.as_view(), name="person_restore"),
    path("v1/people/<int:pk>/merge/", people_views.PersonMergeView.as_view(), name="person_merge"),
    path("v1/people/<int:pk>/facts/", people_views.PersonFactsView.as_view(), name="person_facts"),
    path("v1/people/<int:pk>/facts/<int:fact_id>/", people_views.PersonFactView.as_view(), name="person_fact"),
    path("v1/companies/", people_views.CompaniesView.as_view(), name="companies"),
    path("v1/companies/<int:pk>/", people_views.CompanyView.as_view(), name="company"),
    path("v1/tags/", people_views.TagsView.as_view(), name="tags"),
    path("v1/conversations/", work_views.InteractionsView.as_view(), name="conversations"),
    path("v1/conversations/<int:pk>/", work_views.InteractionView.as_view(), name="conversation"),
    path("v1/needs/", work_views.NeedsView.as_view(), name="needs"),
    path("v1/needs/<int:pk>/", work_views.NeedView.as_view(), name="need"),
    path("v1/promises/", work_views.PromisesView.as_view(), name="promises"),
    path("v1/promises/<int:pk>/", work_views.PromiseView.as_view(), name="promise"),
    path("v1/promises/<int:pk>/keep/", work_views.PromiseKeepView.as_view(), name="promise_keep"),
    path("v1/follow-ups/", work_views.FollowUpsView.as_view(), name="follow_ups"),
    path("v1/follow-ups/<int:pk>/", work_views.FollowUpView.as_view(), name="follow_up"),
    path("v1/follow-ups/<int:pk>/done/", work_views.FollowUpDoneView.as_view(), name="follow_up_done"),
    path("v1/follow-ups/<int:pk>/snooze/", work_views.FollowUpSnoozeView.as_view(), name="follow_up_snooze"),
    path("v1/this-week/", work_views.ThisWeekView.as_view(), name="this_week"),
    path("v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("v1/docs/", docs.DocsView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^.*$", NotFoundView.as_view(), name="not_found"),
]
