"""bench/load.py's arithmetic: the two logged-in modes take turns on a page in halves (A B B A),
and each mode's turns are reported as one measurement."""

from __future__ import annotations

from bench.load import MODES, _combined


def turn(requests: int, seconds: float, cpu_ms: float, p50_ms: float) -> dict[str, object]:
    return {
        "requests_per_s": requests / seconds,
        "p50_ms": p50_ms,
        "p99_ms": 2 * p50_ms,
        "requests": requests,
        "errors": 1,
        "socket_errors": 0,
        "cpu_ms_per_request": round(cpu_ms / requests, 2),
        "cpu_ms": cpu_ms,
        "load_1m": 1.5,
    }


def test_turns_add_up_to_totals_over_the_whole_time() -> None:
    combined = _combined([turn(300, 3.0, 1500.0, 10.0), turn(600, 3.0, 2100.0, 6.0)])

    assert combined["requests"] == 900
    assert combined["requests_per_s"] == 150.0  # 900 requests in 6 seconds, not the mean rate
    assert combined["cpu_ms_per_request"] == 4.0  # 3,600 ms of CPU over 900 requests
    assert combined["p50_ms"] == 8.0
    assert combined["errors"] == 2


def test_one_turn_is_reported_as_measured() -> None:
    only = turn(300, 3.0, 1500.0, 10.0)

    assert _combined([only]) is only


def test_the_progress_mode_is_measured_by_default() -> None:
    assert MODES.index("logged_in_progress") == MODES.index("logged_in") + 1
