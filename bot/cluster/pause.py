"""A test hook: stop the story stage inside its write transaction, to be SIGKILLed there.

Set STORYWATCH_TEST_PAUSE_STAGE_WRITE to a file path: the first time the stage's transaction
deletes its inbox rows (after writing articles, stories and outbox rows, before COMMIT), the
process creates that file and stops dead (its event loop blocked), as a process frozen or
killed mid-write would. tests/integration/test_cluster.py uses it; nothing else should.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

VARIABLE = "STORYWATCH_TEST_PAUSE_STAGE_WRITE"


def pause_stage_writes(engine: AsyncEngine) -> None:
    """Install the hook on `engine` when the variable is set (else nothing)."""
    marker = os.environ.get(VARIABLE)
    if not marker:
        return

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM INBOX"):
            Path(marker).write_text(str(os.getpid()))
            while True:  # until SIGKILL: blocking on purpose, nothing else may run
                time.sleep(1)

    event.listen(engine.sync_engine, "after_cursor_execute", after)
