"""Read-only facts about the Azure side: what a ``show`` said, parsed (pure parsers + ``show``).

A resource is *there* (its JSON), *missing* (az's not-found answers: exit code 3, or an error
naming ``...NotFound``), or the probe failed for another reason (not logged in, no permission),
which is an error naming the command. Under ``--dry`` without az every resource is missing: the
plan is for a fresh subscription.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tasks.core import operation as op
from tasks.core.errors import UserError
from tasks.core.steps import tail

if TYPE_CHECKING:
    from tasks.core.operation import Op
    from tasks.core.runner import Result
    from tasks.core.steps import Command

#: az exits 3 when a resource does not exist (azure-cli's ResourceNotFoundError); older
#: commands exit 1 with the service's error code in the message.
NOT_FOUND_EXIT = 3
_NOT_FOUND = re.compile(
    r"NotFound|not found|could not be found|was not found|is not installed|does not exist",
)
LOGIN_HINT = (
    "Check that `az login` was done and that the account can see the subscription "
    "(`az account show`; set `subscription` in deploy/aks/cluster.yaml)."
)


@dataclass(frozen=True)
class Fact:
    """What one probe found; ``data`` is None when the resource does not exist."""

    data: Any
    observed: bool

    @property
    def exists(self) -> bool:
        return self.data is not None

    def get(self, *keys: str | int, default: str = "") -> str:
        node = self.data
        for key in keys:
            try:
                node = node[key]
            except (KeyError, IndexError, TypeError):
                return default
        return default if node is None else str(node)


def not_found(result: Result) -> bool:
    return result.returncode == NOT_FOUND_EXIT or bool(_NOT_FOUND.search(result.stderr))


def parse(stdout: str, what: str, *, secret: bool = False) -> Any:
    """az's JSON answer. ``secret``: the output holds a credential (a key, a new password), so
    an answer that is not JSON is never quoted back in the error."""
    text = stdout.strip()
    if not text:
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        shown = "(not shown: it holds a secret)" if secret else tail(text, 3)
        raise UserError(f"{what}: az printed something that is not JSON: {shown}") from None


def read(command: Command, result: Result) -> Fact:
    """What a ``show`` said: its JSON, missing (az's not-found answers), or nothing observed.
    Any other failure is not a fact: see :func:`show`. The exit code decides first: az exits 0
    with warnings on stderr that may read like not-found, and what it showed exists."""
    if not result.observed:
        return Fact(None, observed=False)
    if result.ok:
        return Fact(parse(result.stdout, command.step), observed=True)
    return Fact(None, observed=True)


def show(command: Command) -> Op[Fact]:
    """Run a ``show``; missing is a fact, any other failure an error naming the command."""
    result = yield from op.probe(command)
    if result.observed and not result.ok and not not_found(result):
        shown = yield from op.masked(command.display())
        stderr = yield from op.masked(result.stderr)
        raise UserError(
            f"{command.step}: `{shown}` exited with "
            f"{result.returncode}:\n{tail(stderr)}\n{LOGIN_HINT}"
        )
    return read(command, result)


def feature_state(fact: Fact) -> str:
    """``Registered``, ``Registering``, ``NotRegistered`` ... (empty when unknown)."""
    return fact.get("properties", "state")


def placeholder(what: str) -> str:
    """A value only a real run knows (an object ID, the OIDC issuer), shown under --dry."""
    return f"<{what}>"


def is_placeholder(value: str) -> bool:
    return value.startswith("<") and value.endswith(">")
