"""Background work for inbound email: each task calls one service."""

from __future__ import annotations

from celery import shared_task

from inbound import mailbox, services


# No retries of its own: beat runs it every minute, which is the retry, and a failure is on
# the MailboxPoll row for the footer until a run succeeds. Nothing is lost meanwhile: the
# messages wait, unmarked, in the mailbox.
@shared_task(acks_late=True, ignore_result=True)
def poll_mailbox_task() -> int:
    try:
        return mailbox.mailbox_poll()
    except mailbox.IMAP_ERRORS:
        return 0  # recorded on the MailboxPoll row; the next beat tries again


@shared_task(acks_late=True, ignore_result=True)
def sweep_inbound_task() -> int:
    return services.messages_sweep()
