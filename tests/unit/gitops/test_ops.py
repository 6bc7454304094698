"""The gitops operations as data: the steps each plans for given facts (no runner, no cluster)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from tasks.core import operation as op
from tasks.core.errors import CommandFailed, UserError
from tasks.core.runner import Command, Remove, Result, WriteFile
from tasks.deploytree.tree import FileChange
from tasks.gitops import facts, ops
from tasks.gitops.kube import Kube
from tasks.gitops.tree_tasks import apply_changes

REPO = Path(__file__).resolve().parents[3]
VALUES = [REPO / "deploy/infrastructure/argocd/values.yaml"]
HELM_HEADER = "NAME\tNAMESPACE\tREVISION\tUPDATED\tSTATUS\tCHART\tAPP VERSION\n"


def kube(tmp_path: Path, *, cluster: bool = True) -> Kube:
    kubeconfig = tmp_path / "kubeconfig"
    if cluster:
        kubeconfig.write_text("{}")
    return Kube(kubeconfig, tmp_path)


def answering(**by_kind: Callable[[Any], Any]) -> Callable[[op.Step], Any]:
    """Answer each step by its class name; other commands succeed with empty output."""

    def answer(step: op.Step) -> Any:
        kind = type(step).__name__
        if kind in by_kind:
            return by_kind[kind](step)
        return Result(0, "", "") if isinstance(step, Command) else None

    return answer


#: The version the wrapper chart pins, so that no version warning comes first.
PINNED = facts.install_inputs(VALUES).wrapper_version or ""


def install(k: Kube) -> op.Op[None]:
    return ops.install(k, version=PINNED, files=VALUES, chart=None, timeout=600)


def test_install_with_the_same_chart_and_values_changes_nothing(tmp_path: Path) -> None:
    values = facts.install_inputs(VALUES).values
    listed = HELM_HEADER + f"argocd\targocd\t1\tnow\tdeployed\targo-cd-{PINNED}\tv3\n"
    steps, _ = op.drive(
        install(kube(tmp_path)),
        answering(
            Probe=lambda s: Result(0, listed, ""),
            Capture=lambda s: "USER-SUPPLIED VALUES:\n" + ops.dump_values(values),
        ),
    )
    assert [type(s).__name__ for s in steps] == ["Probe", "Capture", "Say"]
    assert isinstance(steps[-1], op.Say) and "nothing to do" in steps[-1].line


def test_install_of_a_new_release_adds_the_repo_then_upgrades_and_reports(
    tmp_path: Path,
) -> None:
    steps, _ = op.drive(
        install(kube(tmp_path)), answering(Probe=lambda s: Result(0, HELM_HEADER, ""))
    )
    argv = [s.argv[:3] for s in steps if isinstance(s, Command)]
    assert argv == [("helm", "repo", "add"), ("helm", "upgrade", "--install")]
    assert isinstance(steps[-1], op.Report) and "Argo CD installed" in steps[-1].line


def test_install_stops_when_helm_cannot_list_the_releases(tmp_path: Path) -> None:
    seen: list[op.Step] = []

    def answer(step: op.Step) -> Any:
        seen.append(step)
        return Result(1, "", "Kubernetes cluster unreachable")

    with pytest.raises(CommandFailed, match="Is the cluster up"):
        op.drive(install(kube(tmp_path)), answer)
    assert [type(s).__name__ for s in seen] == ["Probe"]


def test_an_unread_helm_list_plans_a_fresh_install(tmp_path: Path) -> None:
    # --dry without helm: the probe is not observed, so nothing is known to be installed.
    steps, _ = op.drive(
        install(kube(tmp_path)), answering(Probe=lambda s: Result(0, "", "", dry=True))
    )
    assert sum(isinstance(s, Command) for s in steps) == 2


def test_names_or_all_plans_for_a_fresh_cluster_before_one_exists(tmp_path: Path) -> None:
    steps, names = op.drive(
        ops.names_or_all(kube(tmp_path, cluster=False), []),
        answering(Assume=lambda s: s.fresh),
    )
    assert names == []
    # The listing is shown, not run: there is no kubeconfig to run it with yet.
    assert isinstance(steps[0], op.Say) and "get applications.argoproj.io" in steps[0].line
    assert isinstance(steps[1], op.Assume)
    with pytest.raises(ops.NoApplications, match=r"inv gitops\.bootstrap"):
        steps[1].observe()


def test_bootstrap_applies_the_key_and_the_root_then_waits(tmp_path: Path) -> None:
    key = tmp_path / "keys.txt"
    k = kube(tmp_path)
    steps, _ = op.drive(
        ops.bootstrap(
            k,
            root=REPO,
            gitops_path="deploy",
            key_file=key,
            clusters=ops.clusters(REPO, "deploy", None),
            timeout=60,
            interval=1,
        ),
        answering(Assume=lambda s: s.fresh, Wait=lambda s: True),
    )
    kinds = [type(s).__name__ for s in steps]
    assert kinds == ["Assume", "Say", "Command", "Command", "Say", "Wait", "Report"]
    applied = [s.argv[-1] for s in steps if isinstance(s, Command)]
    assert applied == ["-", "deploy/bootstrap/root-application.yaml"]


def test_bootstrap_without_a_root_application_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "deploy" / "bootstrap").mkdir(parents=True)
    with pytest.raises(UserError, match="No application renders"):
        op.drive(
            ops.bootstrap(
                kube(tmp_path),
                root=tmp_path,
                gitops_path="deploy",
                key_file=tmp_path / "keys.txt",
                clusters=[],
                timeout=60,
                interval=1,
            ),
            answering(),
        )


def test_generated_changes_are_written_or_removed_and_each_reported(tmp_path: Path) -> None:
    changes = [
        FileChange(PurePosixPath("deploy/a.yaml"), "old\n", "new\n", ("pool",)),
        FileChange(PurePosixPath("deploy/b.yaml"), "gone\n", None, ("no node",)),
    ]
    steps, _ = op.drive(apply_changes(tmp_path, changes, "nothing"), answering())
    assert steps == [
        WriteFile(tmp_path / "deploy/a.yaml", "new\n", step=changes[0].describe()),
        op.Report(changes[0].describe()),
        Remove(tmp_path / "deploy/b.yaml", step=changes[1].describe()),
        op.Report(changes[1].describe()),
    ]
    assert op.drive(apply_changes(tmp_path, [], "nothing"), answering())[0] == [op.Say("nothing")]
