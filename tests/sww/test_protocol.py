"""sww01 replies: the runner's parse rules for stop / print_detections / print_dutycycle."""

from __future__ import annotations

import pytest
from tinyperf.formats import sww_protocol as swp


def test_activations_of_the_reference_stop_reply_with_echo_and_prefixes_stripped():
    values = list(range(-3, 30))
    lines = ["Received command: stop", swp.STOP_DONE, *swp.format_activations(values), "m-ready"]
    got = swp.parse_activations(lines)
    assert got is not None
    # the reference prints a trailing ", " before "]": the runner's empty last item is
    # replaced by the previous value, with its warning
    assert got.values == [*values, values[-1]]
    assert got.warnings == ["WARNING: Invalid element ' ' for conversion to <class 'int'> at "
                            f"element {len(values)}.  Replacing with previous value."]


def test_activations_tolerate_m_ready_on_the_same_line_and_floats():
    got = swp.parse_activations(["target activations: [0.5, 0.25,", " 1e-3]m-ready"])
    assert got is not None and got.values == [0.5, 0.25, 0.001] and not got.warnings


def test_activations_invalid_item_replaced_by_previous_value():
    got = swp.parse_activations(["target activations: [3, x, 5]", "m-ready"])
    assert got is not None and got.values == [3, 3, 5]
    assert "Invalid element ' x'" in got.warnings[0]


def test_third_party_stop_text_has_no_activations():
    assert swp.parse_activations(["Stopping ww detection.", "m-ready"]) is None
    assert swp.parse_activations([]) is None


def test_a_single_activation_is_a_scalar_as_in_the_runner():
    got = swp.parse_activations(["target activations: [7]", "m-ready"])
    assert got is not None and got.values == 7


def test_detections_round_trip_and_errors_name_the_line():
    lines = swp.format_detections([35, 9945])
    assert lines == ["Detection Timestamps (ms)", "35,", "9945,", "m-ready"]
    assert swp.parse_detections(lines) == [35, 9945]
    assert swp.parse_detections(["Detection Timestamps (ms)", "m-ready"]) == []
    with pytest.raises(swp.SwwReplyError, match="header"):
        swp.parse_detections(["m-ready"])
    with pytest.raises(swp.SwwReplyError, match="m-ready"):
        swp.parse_detections(["Detection Timestamps (ms)", "35,"])
    with pytest.raises(swp.SwwReplyError, match="line 3"):
        swp.parse_detections(["Detection Timestamps (ms)", "35,", "abc,", "m-ready"])


def test_dutycycle_of_the_real_exchange():
    lines = ["Duty cycle start times (s)",
             "6718, 9924, 13132, 16339, 19547, 22754, 25961, 29169,",
             "Duty cycle stop times (s)",
             "6787, 9994, 13202, 16409, 19617, 22824, 26031, 29239,",
             "314683, 317889, 321095, 324302, m-ready"]
    got = swp.parse_dutycycle(lines)
    assert got.starts[:2] == [6718, 9924] and len(got.starts) == 8
    assert got.stops[-1] == 324302 and len(got.stops) == 12


@pytest.mark.parametrize("n", [0, 3, 8, 16, 17])
def test_dutycycle_format_puts_m_ready_as_the_board_does(n):
    starts = list(range(100, 100 + 10 * n, 10))
    lines = swp.format_dutycycle(starts, starts)
    if n % 8:
        assert lines[-1].endswith(", m-ready")
    else:
        assert lines[-1] == "m-ready"
    got = swp.parse_dutycycle(lines)
    assert got.starts == starts and got.stops == starts


def test_dutycycle_errors():
    with pytest.raises(swp.SwwReplyError, match="header"):
        swp.parse_dutycycle(["m-ready"])
    with pytest.raises(swp.SwwReplyError, match="m-ready"):
        swp.parse_dutycycle(["Duty cycle start times (s)", "1, 2,"])
    with pytest.raises(swp.SwwReplyError, match="tick count"):
        swp.parse_dutycycle(["Duty cycle start times (s)", "1, zz,", "m-ready"])


def test_ticks_are_converted_as_the_runner_multiplies():
    assert swp.ticks_to_seconds([6718]) == [6718 * 10e-6]
