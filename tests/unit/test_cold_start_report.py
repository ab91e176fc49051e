"""bench.cold_start's verdict: on instruction counts when taken, else on median time."""

from __future__ import annotations

from pathlib import Path

from bench.cold_start import BUDGET_RATIO, Target, report


def target(name: str, seconds: list[float], instructions: int | None = None) -> Target:
    return Target(name, Path("."), [], "", {}, samples=seconds, instructions=instructions)


def statuses(table: str) -> dict[str, str]:
    """Each row's last column (OK / OVER / ERROR), by function name."""
    cells = [line.split(" | ") for line in table.splitlines() if " | " in line]
    return {row[0].strip(): row[-1].strip() for row in cells}


def test_instruction_counts_decide_when_they_were_taken() -> None:
    # Given a floor, a function slow on the clock but lean in instructions, and the reverse
    floor = target("(floor)", [1.0, 1.0, 1.0], instructions=1_000_000_000)
    noisy = target("Noisy", [1.4, 1.5, 1.3], instructions=int(1e9 * (BUDGET_RATIO - 0.01)))
    heavy = target("Heavy", [1.0, 1.0, 1.0], instructions=int(1e9 * (BUDGET_RATIO + 0.01)))
    # When the report is made
    table, over, failed = report(floor, [noisy, heavy])
    # Then the instructions decide: the noisy one is OK, the heavy one is over
    assert statuses(table)["Noisy"] == "OK"
    assert statuses(table)["Heavy"] == "OVER"
    assert over and not failed
    assert "checked on instructions" in table


def test_median_time_decides_without_instruction_counts() -> None:
    floor = target("(floor)", [1.0, 0.9, 1.1])
    within = target("Within", [1.1, 1.1, 5.0])  # median 1.1: one slow run does not count
    beyond = target("Beyond", [1.2, 1.2, 0.5])
    table, over, failed = report(floor, [within, beyond])
    assert statuses(table)["Within"] == "OK"
    assert statuses(table)["Beyond"] == "OVER"
    assert over and not failed
    assert "checked on median time" in table


def test_a_missing_count_is_an_error_not_a_pass() -> None:
    floor = target("(floor)", [1.0], instructions=1_000_000_000)
    uncounted = target("Uncounted", [1.0])
    table, _, failed = report(floor, [uncounted])
    assert failed
    assert statuses(table)["Uncounted"] == "ERROR"
