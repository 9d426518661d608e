"""A stream's time offsets going backwards: where an analytic's open segments must end.

Offsets (seconds since the stream start, from PTS) restart on a source of their own accord: an MPEG-TS
whose timestamps restart at a resolution change, a camera that reboots, a file replayed. A LUNA
``video_segment`` cannot span such a restart (its end would come before its start), so an analytic ends
what it has open at the last offset before the jump and carries on, on the new timeline, with new events.
"""

from __future__ import annotations


class Timeline:
    """The last time offset an analytic saw, to notice the next one being earlier."""

    def __init__(self) -> None:
        self.last: float | None = None

    def jumped_back(self, time_offset: float) -> float | None:
        """The last offset seen when ``time_offset`` is before it (time went back), else None."""
        last, self.last = self.last, time_offset
        return last if last is not None and time_offset < last else None
