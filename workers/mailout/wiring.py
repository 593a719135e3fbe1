"""What ``workers.queue.assembly.install`` calls: the mail-out composers and the scheduler's
jobs."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workers.config.settings import Settings
    from workers.returns.inbox import InboxReader


def register() -> None:
    from workers.casework import notices  # a meeting moved or cancelled (issue 16)
    from workers.mail.backoff import make_backoff
    from workers.mailout import compose, jobs
    from workers.mailout.documents import load_config
    from workers.queue.scheduler import register_job
    from workers.returns import poll
    from workers.reviews import distribution_compose, next_review_job, record_replies

    load = cache(load_config)
    compose.register(load)
    distribution_compose.register(load)  # copies of the review record (issue 15 §2)
    notices.register(load)
    register_job(jobs.make_job(load))
    shared_backoff = cache(lambda: make_backoff(load().settings))
    register_job(poll.make_job(lambda: inbox_reader(load().settings),
                               lambda: Path(load().settings.documents_dir),
                               lambda: (shared_backoff(), load().settings.mailbox.address)))
    # the IRO's emailed records never confirmed are deleted (issue 15 §1)
    register_job(record_replies.make_job(lambda: load().settings.mailbox.record_reply_days,
                                         lambda: Path(load().settings.documents_dir)))
    # each child's stored next review, which the caseload and overdue lists sort by (issue 18)
    register_job(next_review_job.make_job(lambda: (load().calendar,
                                               load().rules.review_timescales)))


def inbox_reader(settings: Settings) -> InboxReader | None:
    """The team mailbox's inbox for the configured transport (None: no inbox to poll)."""
    e = settings.ews
    if settings.transport == "ews" and e.endpoint:
        from workers.mail.ews import EwsConfig
        from workers.returns.ews_inbox import EwsInbox

        secret = e.password.get_secret_value() if e.password else None
        client_secret = e.client_secret.get_secret_value() if e.client_secret else None
        return EwsInbox(EwsConfig(
            endpoint=e.endpoint, mailbox=settings.mailbox.address, auth=e.auth,
            username=e.username, password=secret, tenant_id=e.tenant_id, client_id=e.client_id,
            client_secret=client_secret, version=e.version, verify_tls=e.verify_tls,
            timeout_seconds=e.timeout_seconds,
        ), settings.mailbox.processed_folder)
    g = settings.graph
    if settings.transport == "graph" and g.tenant_id and g.client_id and g.client_secret:
        from workers.mail.graph import GraphConfig
        from workers.returns.graph_inbox import GraphInbox

        return GraphInbox(GraphConfig(
            tenant_id=g.tenant_id, client_id=g.client_id,
            client_secret=g.client_secret.get_secret_value(), mailbox=settings.mailbox.address,
            authority_host=g.authority_host, base_url=g.base_url,
            timeout_seconds=g.timeout_seconds,
        ), settings.mailbox.processed_folder)
    i = settings.imap
    if settings.transport == "smtp" and i.host:
        from workers.returns.imap_inbox import ImapConfig, ImapInbox

        return ImapInbox(ImapConfig(
            host=i.host, port=i.port, security=i.security,
            username=i.username or settings.mailbox.address,
            password=i.password.get_secret_value() if i.password else "",
            timeout_seconds=settings.smtp.timeout_seconds,
        ), settings.mailbox.processed_folder)
    return None  # the outbox, or SMTP without imap.host: no inbox to poll
