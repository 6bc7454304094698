"""Duration options: what seconds() accepts and the usage error for everything else."""

from __future__ import annotations

from typing import Any

import pytest

from tasks.core.errors import UserError
from tasks.core.taskhelp import seconds


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        (None, {}, 600.0),
        ("30", {}, 30.0),
        ("1", {}, 1.0),
        (" 2.5 ", {}, 2.5),
        ("1e3", {}, 1000.0),
        (45, {}, 45.0),
        ("9999999", {}, 9999999.0),
        ("0.5", {"minimum": 0.1}, 0.5),
        ("0", {"allow_zero": True}, 0.0),
        ("0", {"minimum": 0.0}, 0.0),
    ],
)
def test_seconds_accepts(
    value: str | float | None, kwargs: dict[str, Any], expected: float
) -> None:
    assert seconds("timeout", value, 600, **kwargs) == expected


@pytest.mark.parametrize(
    ("value", "kwargs", "message"),
    [
        ("soon", {}, "--timeout 'soon': expected a number of seconds."),
        ("5m", {}, "--timeout '5m': expected a number of seconds."),
        ("", {}, "--timeout '': expected a number of seconds."),
        ("nan", {}, "--timeout 'nan': must be from 1 to 9999999 seconds."),
        ("inf", {}, "--timeout 'inf': must be from 1 to 9999999 seconds."),
        ("-inf", {}, "--timeout '-inf': must be from 1 to 9999999 seconds."),
        ("10000000", {}, "--timeout '10000000': must be from 1 to 9999999 seconds."),
        ("0", {}, "--timeout '0': must be from 1 to 9999999 seconds."),
        ("-3", {}, "--timeout '-3': must be from 1 to 9999999 seconds."),
        ("0.5", {"allow_zero": True}, "--timeout '0.5': must be 0 or from 1 to 9999999 seconds."),
        ("-1", {"minimum": 0.0}, "--timeout '-1': must be from 0 to 9999999 seconds."),
        (float("nan"), {"allow_zero": True}, "--timeout nan: must be 0 or from 1 to 9999999"),
    ],
)
def test_seconds_rejects_with_a_usage_error(
    value: str | float, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(UserError) as excinfo:
        seconds("timeout", value, 600, **kwargs)
    assert excinfo.value.text.startswith(message)
    assert excinfo.value.code == 2
