"""Stream and agent status enums and their mapping to LUNA's words.

LUNA stores a stream's ``status`` as an integer: a new stream is 0 (pending) and agents report 1
(in_progress) in feedback. The manuals name the other states but not their numbers, so Selene fixes
them here and keeps them stable:

====  ================  ===================================================================
int   LUNA word         meaning
====  ================  ===================================================================
0     ``pending``       waiting for an agent (new, resumed, or given back by a lost agent)
1     ``in_progress``   an agent is processing it
2     ``done``          a video file was processed to its end
3     ``restart``       failed, and waiting ``autorestart.delay`` before the next attempt
4     ``failure``       failed with no restart left (``last_error`` says why)
5     ``pause``         stopped by the user (LUNA's ``action: pause``; ``stop`` is an alias)
6     ``handler_lost``  its agent stopped answering; goes back to ``pending`` for reassignment
====  ================  ===================================================================
"""

from __future__ import annotations

from enum import Enum, IntEnum


class StreamStatus(IntEnum):
    PENDING = 0
    IN_PROGRESS = 1
    DONE = 2
    RESTART = 3
    FAILURE = 4
    PAUSE = 5
    HANDLER_LOST = 6

    @property
    def luna_name(self) -> str:
        return self.name.lower()

    @classmethod
    def from_luna(cls, word: str) -> StreamStatus:
        """Parse LUNA's word; ``stop`` is LUNA's release-notes name for ``pause``."""
        word = word.strip().lower()
        if word == "stop":
            return cls.PAUSE
        return cls[word.upper()]

    @property
    def is_terminal(self) -> bool:
        return self in (StreamStatus.DONE, StreamStatus.FAILURE)


class AgentStatus(str, Enum):
    """An agent is ``ready`` while it heartbeats within ``alive_period``, else ``not_ready``."""

    READY = "ready"
    NOT_READY = "not_ready"


class AutorestartStatus(str, Enum):
    """LUNA's ``analytics[].autorestart.status``."""

    DISABLED = "disabled"
    ENABLED = "enabled"
    IN_PROGRESS = "in_progress"
    FAILED = "failed"
