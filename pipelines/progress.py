"""A Dagster logger that turns a run's events into a readable progress display.

``funnelhouse run`` selects the ``progress`` logger in its run config; the webserver and
``dagster dev`` keep Dagster's coloured console logger. The logger forwards each record to the
``RunListener`` of the process, which the command line draws with rich.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import dagster as dg
from dagster._core.log_manager import get_log_record_metadata, has_log_record_metadata

Listener = Callable[[logging.LogRecord, object | None], None]  # (record, dagster event or None)
_listeners: list[Listener] = []


def listen(listener: Listener) -> Callable[[], None]:
    """Hear every record of runs in this process; returns the function that stops listening."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


class _Forward(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        event = None
        if has_log_record_metadata(record):
            event = get_log_record_metadata(record).get("dagster_event")
        for listener in list(_listeners):
            listener(record, event)


@dg.logger(description="Forwards run events to the funnelhouse command line's progress display.")
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.getLogger("funnelhouse.run")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    if not any(isinstance(h, _Forward) for h in logger.handlers):
        logger.addHandler(_Forward())
    return logger


LOGGERS = {"console": dg.colored_console_logger, "progress": progress_logger}
