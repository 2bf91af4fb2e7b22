"""Composing emails — render, MIME build, wire bytes — inline or ahead of the run in worker
processes.

Composing is most of a send's CPU (rendering and link tracking, building the MIME message and
serialising it: about half of the sending process's time, profiled in bench/RESULTS.md), and a
Python process composes on one core. A run with many emails hands the composing of the next
rows to worker processes while it decides, claims and sends the current ones.

Composing ahead changes no decision: the run still decides each row in order (do-not-contact,
caps, channel down) and takes a composed message only when the job it would compose now is the
one composed ahead (same content, contact fields, key, addresses); otherwise, or if a worker
failed, it composes inline. Worker and inline composing are the same function.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from activation.channels import dot_stuffed
from activation.render import (
    EmailContent,
    Renderer,
    RenderError,
    Tracking,
    build_message,
    message_id_for,
)

# Rows composed per task: one round trip to a worker carries this many messages.
CHUNK = 50
# How far ahead of the run the workers compose (messages): bounds the memory held.
LOOKAHEAD = 2_000


@dataclass(frozen=True)
class EmailJob:
    """Everything composing an email reads."""

    content: EmailContent
    variables: dict[str, Any]
    idempotency_key: str
    tracking: Tracking
    params: dict[str, Any] | None
    to: str
    to_name: str | None
    sender: str
    envelope_sender: str
    campaign_id: str | None


@dataclass(frozen=True)
class ComposedEmail:
    subject: str
    data: bytes  # dot-stuffed, what follows SMTP's DATA command
    message_id: str


def compose(renderer: Renderer, job: EmailJob) -> ComposedEmail:
    """The message of ``job``; RenderError when its template cannot be rendered."""
    rendered = renderer.render_email(
        job.content, job.variables, job.idempotency_key, job.tracking, job.params
    )
    message = build_message(
        rendered,
        to=job.to,
        to_name=job.to_name,
        sender=job.sender,
        envelope_sender=job.envelope_sender,
        idempotency_key=job.idempotency_key,
        campaign_id=job.campaign_id,
        date=datetime.now(UTC),
    )
    return ComposedEmail(
        rendered.subject,
        dot_stuffed(message.as_bytes()),
        message_id_for(job.idempotency_key, job.envelope_sender),
    )


# --- worker processes ----------------------------------------------------------------------

_worker_renderer: Renderer | None = None


def _start_worker(template_dirs: list[Path]) -> None:
    global _worker_renderer
    _worker_renderer = Renderer(template_dirs)


def _compose_chunk(jobs: list[EmailJob]) -> list[ComposedEmail | str]:
    """Each job's message, or its render error's text."""
    composed: list[ComposedEmail | str] = []
    for job in jobs:
        try:
            composed.append(compose(_worker_renderer, job))
        except RenderError as error:
            composed.append(str(error))
    return composed


class ComposeAhead:
    """Composes the jobs of a run's rows, in the order the run reaches them, in worker
    processes, at most LOOKAHEAD rows ahead of the row the run last took a message for."""

    def __init__(
        self, template_dirs: list[Path], jobs: Iterable[tuple[int, EmailJob]], workers: int
    ):
        # spawn: the run's process has threads (senders, DuckDB, Dagster) a fork would copy
        # mid-flight; the workers start clean and import only what composing needs.
        self.pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(template_dirs,),
        )
        self.jobs: Iterator[tuple[int, EmailJob]] = iter(jobs)  # (row position, job)
        # key → (position, job, its chunk, index in the chunk), in position order
        self.pending: dict[str, tuple[int, EmailJob, Future, int]] = {}
        self.submitted_to = -1  # the position of the last job submitted
        self.reached = 0  # the position of the last row the run took a message for
        self.composed = 0  # messages the run took from the workers
        self._submit()

    def _submit(self) -> None:
        while self.submitted_to - self.reached < LOOKAHEAD:
            chunk = [item for _, item in zip(range(CHUNK), self.jobs, strict=False)]
            if not chunk:
                return
            future = self.pool.submit(_compose_chunk, [job for _, job in chunk])
            for index, (position, job) in enumerate(chunk):
                self.pending[job.idempotency_key] = (position, job, future, index)
            self.submitted_to = chunk[-1][0]

    def take(self, job: EmailJob) -> ComposedEmail | str | None:
        """The message composed ahead for ``job`` (or its render error's text); None when it
        was not composed ahead as it stands now."""
        ahead = self.pending.pop(job.idempotency_key, None)
        if ahead is None:
            return None
        position, planned, future, index = ahead
        self.reached = position
        while self.pending:  # rows passed without a message (skipped, deferred): let go
            key, (first, *_) = next(iter(self.pending.items()))
            if first > position:
                break
            del self.pending[key]
        self._submit()
        if planned != job:
            return None
        try:
            composed = future.result()[index]
        except Exception:  # a worker died or failed: the run composes this one itself
            return None
        self.composed += 1
        return composed

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
