"""The aks operations as data: driven without a runner, each answering the steps it plans for a
given Azure subscription (probes answered from a dict, changes answered as az would)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from invoke.context import Context

from tasks.aks import facts, ops, phases, plan
from tasks.aks.settings import Settings, Timeouts
from tasks.core import operation as op
from tasks.core.errors import CommandFailed, UserError
from tasks.core.runner import Result, Runner
from tasks.core.state import ClusterState
from tasks.core.steps import Command, MakeDir, Remove, WriteFile
from tests.play import play
from tests.unit.aks.test_az_flags import SPEC

NOT_FOUND = Result(3, "", "ERROR: (ResourceNotFound) not found.\n")


def env_in(root: Path) -> ops.Env:
    settings = Settings(
        spec_file=Path("deploy/aks/cluster.yaml"),
        age_key_file=root / "age.txt",
        deploy=Path("deploy"),
        state=ClusterState(root / "aks-propertea"),
        timeouts=Timeouts(),
    )
    return ops.Env(Context(), SPEC, settings, Runner(dry=False, out=lambda line: None))


def subscription(world: dict[str, Any]) -> Callable[[op.Step], Any]:
    """Answers as az would for a subscription holding ``world``: ``az ARGS`` starting with a key
    answers that key's value (a :class:`Result`, or JSON data); a show of anything else is not
    found; every change succeeds with ``{}``."""

    def lookup(command: Command) -> Result | None:
        line = " ".join(command.argv[1:])
        for key, value in world.items():
            if line.startswith(key):
                return value if isinstance(value, Result) else Result(0, json.dumps(value), "")
        return None

    def answer(step: op.Step) -> Any:
        if isinstance(step, op.Probe):
            return lookup(step.command) or NOT_FOUND
        if isinstance(step, Command):
            return lookup(step) or Result(0, "{}", "")
        if isinstance(step, op.Mask):
            return step.text.replace("s3cret", "***")  # as the runner masks a registered secret
        return None

    return answer


def commands(steps: list[op.Step]) -> list[str]:
    """The changes planned (probes excluded), as ``az ...`` without the common flags."""
    return [
        " ".join(a for a in s.argv if a not in ("--only-show-errors", "-o", "json"))
        for s in steps
        if isinstance(s, Command)
    ]


def test_destroy_confirms_then_deletes_only_the_groups_that_exist(tmp_path: Path) -> None:
    env = env_in(tmp_path)
    world = {"group show --name propertea-aks": {"id": "/rg/aks"}}
    steps, _ = op.drive(
        ops.destroy(env, yes=False, network=True, backups=True), subscription(world)
    )
    confirm = next(s for s in steps if isinstance(s, op.Confirm))
    assert "propertea-aks" in confirm.question and "propertea-network" not in confirm.question
    assert steps.index(confirm) < next(i for i, s in enumerate(steps) if isinstance(s, Command))
    assert [c.split(" --yes")[0] for c in commands(steps)] == [
        "az group delete --name propertea-aks"
    ]
    assert isinstance(steps[-1], op.Proof)  # the phase markers go only after a real deletion


def test_destroy_of_nothing_asks_nothing_and_deletes_nothing(tmp_path: Path) -> None:
    steps, _ = op.drive(
        ops.destroy(env_in(tmp_path), yes=True, network=True, backups=True), subscription({})
    )
    assert [type(s) for s in steps] == [op.Probe, op.Probe, op.Probe]


def test_a_secret_file_is_removed_even_when_az_fails_to_store_it(tmp_path: Path) -> None:
    env = env_in(tmp_path)
    store = ops._store_secrets(env, {"pg-backup-storage-key": "key-value"})
    assert isinstance(next(store), MakeDir)
    written = store.send(None)
    assert isinstance(written, WriteFile) and written.secret
    assert isinstance(store.send(None), Command)
    removal = store.throw(CommandFailed("az keyvault secret set failed", returncode=1))
    assert removal == Remove(written.path, step="pg-backup-storage-key (no longer needed)")
    with pytest.raises(CommandFailed, match="secret set failed"):
        store.send(None)


def test_an_unreadable_storage_key_writes_no_secret_file(tmp_path: Path) -> None:
    world = {"storage account keys list": Result(1, "", "AuthorizationFailed\n")}
    steps: list[op.Step] = []
    answer = subscription(world)

    def recording(step: op.Step) -> Any:
        steps.append(step)
        return answer(step)

    with pytest.raises(UserError, match="Cannot read the key of properteabackups"):
        op.drive(ops._pg_backup_secrets(env_in(tmp_path)), recording)
    assert not [s for s in steps if isinstance(s, (WriteFile, MakeDir, Command))]


def test_a_missing_cluster_gets_its_kube_proxy_file_before_az_aks_create(tmp_path: Path) -> None:
    env = env_in(tmp_path)
    world = {
        "account show": {"id": "sub", "user": {"type": "user"}},
        "ad signed-in-user show": {"id": "me"},
        "keyvault create": {"id": "/kv"},
        "identity create": {"principalId": "eso"},
        "storage account keys list": "storage-key",
        "ad sp create-for-rbac": {"appId": "app", "password": "pw", "tenant": "tenant"},
        "feature show": {"properties": {"state": "Registered"}},
        "extension show": {"name": "aks-preview"},
        "group show": {"id": "/rg"},
        "aks create": {"identity": {"principalId": "p"}, "oidcIssuerProfile": {"issuerUrl": "i"}},
    }
    steps, _ = op.drive(ops.up(env), subscription(world))
    create = next(i for i, s in enumerate(steps) if isinstance(s, Command) and "create" in s.argv)
    assert steps[create].argv[1:3] == ("aks", "create")
    assert steps[create - 2 : create] == [
        env.state_dir,
        WriteFile(
            env.settings.kube_proxy_config, plan.KUBE_PROXY_CONFIG, step="kube-proxy disabled"
        ),
    ]
    # What az aks create answered is what the later steps use: no placeholder is left.
    assert "--issuer i" in " ".join(commands(steps))
    assert not [c for c in commands(steps) if "<" in c]


def test_an_unexpected_az_failure_names_the_command_with_secrets_masked() -> None:
    world = {"aks show": Result(1, "", "ERROR: AuthorizationFailed for s3cret\n")}
    with pytest.raises(UserError) as raised:
        op.drive(facts.show(plan.aks_show(SPEC)), subscription(world))
    assert "AuthorizationFailed for ***" in raised.value.text
    assert "az login" in raised.value.text


def test_a_missing_identity_stops_the_bootstrap_before_helm(tmp_path: Path) -> None:
    env = env_in(tmp_path)
    planned: list[op.Step] = []
    with pytest.raises(UserError) as raised:
        play(phases.run(env, only="external-secrets"), subscription({}), steps=planned)
    assert "propertea-external-secrets does not exist: run `inv aks.up` first" in (
        raised.value.text
    )
    assert "--only external-secrets" in raised.value.text
    assert not [s for s in planned if isinstance(s, Command)]


def test_a_show_that_succeeds_with_a_warning_on_stderr_finds_the_resource() -> None:
    # az exits 0 and may warn on stderr in words that also mean not-found elsewhere.
    warned = Result(0, '{"name": "propertea-kv"}', "WARNING: extension x is not installed\n")
    _, found = op.drive(facts.show(plan.aks_show(SPEC)), subscription({"aks show": warned}))
    assert found == facts.Fact({"name": "propertea-kv"}, observed=True) and found.exists
    _, missing = op.drive(facts.show(plan.aks_show(SPEC)), subscription({}))
    assert missing == facts.Fact(None, observed=True) and not missing.exists


def test_velero_credentials_that_are_not_json_are_never_quoted_back(tmp_path: Path) -> None:
    # Every Key Vault entry is missing (a show of anything not in the world is not found).
    leaked = Result(0, "Password: pw-Velero-s3cret-123 (copy it now)\n", "")
    steps: list[op.Step] = []
    answer = subscription({"ad sp create-for-rbac": leaked})

    def recording(step: op.Step) -> Any:
        steps.append(step)
        return answer(step)

    with pytest.raises(UserError, match="not JSON") as raised:
        op.drive(ops._velero_credentials(env_in(tmp_path), "/subscriptions/x/rg"), recording)
    assert "pw-Velero" not in raised.value.text
    assert not [s for s in steps if isinstance(s, WriteFile)]


def test_a_storage_key_that_is_not_json_is_never_quoted_back(tmp_path: Path) -> None:
    leaked = Result(0, "key1 abcDEF-storage-s3cret==\n", "")
    with pytest.raises(UserError, match="not JSON: \\(not shown") as raised:
        op.drive(
            ops._pg_backup_secrets(env_in(tmp_path)),
            subscription({"storage account keys list": leaked}),
        )
    assert "abcDEF" not in raised.value.text
