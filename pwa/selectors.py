from __future__ import annotations

from django.db.models import QuerySet

from crm.models import User
from pwa.models import PushSubscription


def push_subscriptions(*, user: User) -> QuerySet[PushSubscription]:
    """The user's own devices: nobody sees or revokes another user's."""
    return PushSubscription.objects.filter(user=user)
