"""Confirming the schematic ID with an Image Factory (a loopback stand-in)."""

from __future__ import annotations

from typing import Any

import pytest

from tasks.core.errors import UserError
from tasks.infra.factory import confirm_schematic
from tasks.infra.schematic import schematic_id, schematic_yaml

TWO = ["siderolabs/iscsi-tools", "siderolabs/util-linux-tools"]


def test_matching_id_is_confirmed(http_server: Any) -> None:
    http_server.behaviour.schematic_id = schematic_id(TWO)
    confirmation = confirm_schematic(http_server.url + "/", TWO)
    assert confirmation.remote_id == schematic_id(TWO) and confirmation.problem == ""
    (request,) = http_server.behaviour.requests
    assert (request["method"], request["path"], request["body"]) == (
        "POST",
        "/schematics",
        schematic_yaml(TWO),
    )


def test_different_id_is_an_error(http_server: Any) -> None:
    http_server.behaviour.schematic_id = "f" * 64
    with pytest.raises(
        UserError, match=r"computed schematic f{64}, but the toolkit computed 613e1592"
    ):
        confirm_schematic(http_server.url, TWO)


def test_failures_are_problems_not_errors(http_server: Any) -> None:
    http_server.behaviour.schematic_status = 500
    assert confirm_schematic(http_server.url, TWO).problem.startswith(
        f"HTTP 500 from {http_server.url}/schematics"
    )
    unreachable = confirm_schematic("http://127.0.0.1:9", TWO)
    assert (
        unreachable.remote_id is None
        and "cannot reach http://127.0.0.1:9/schematics" in unreachable.problem
    )
