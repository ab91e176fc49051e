"""infra.cli pieces that need no running stack."""

from __future__ import annotations

import io

from infra.cli import ProgressBar, scheduled_event


def test_the_progress_bar_redraws_each_percent_and_ends_the_line() -> None:
    stream = io.StringIO()
    bar = ProgressBar("questions dev.json", stream)
    for done in range(1, 1001):
        bar(done, 1000)
    frames = stream.getvalue().split("\r")[1:]
    # One frame per percent, 0 to 100 (not per record), the last one full and closed with a newline
    assert len(frames) == 101
    assert frames[-1] == "questions dev.json [" + "#" * 30 + "] 1000/1000 (100%)\n"
    assert "] 500/1000 (50%)" in frames[50]


def test_the_scheduled_event_carries_the_run_time() -> None:
    from datetime import UTC, datetime

    event = scheduled_event(datetime(2026, 11, 24, 0, 5, tzinfo=UTC))
    assert (event["detail-type"], event["source"], event["time"]) == ("Scheduled Event", "aws.events",
                                                                      "2026-11-24T00:05:00Z")
