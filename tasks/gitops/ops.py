"""What each gitops task does, given a runner and the cluster access (:class:`Kube`)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.core.errors import CommandFailed, UserError
from tasks.core.runner import MASK, Runner, tail
from tasks.core.waits import Clock
from tasks.deploytree import appset
from tasks.gitops import facts, plan
from tasks.gitops.kube import Kube, overlay_for


def bootstrap_dir(gitops_path: str) -> Path:
    """Where the root Application and the layer ApplicationSets live (gitops.path/bootstrap)."""
    return Path(gitops_path) / "bootstrap"


#: The environment the local cluster is; it needs no values overlay.
DEFAULT_ENV = "local"


def values_files(root: Path, gitops_path: str, env: str | None) -> list[Path]:
    """The argocd component's values.yaml, plus values-<env>.yaml when it exists.

    Any environment other than the default must have its overlay: a mistyped ``--env`` would
    otherwise silently install or render the base values.
    """
    base = root / gitops_path / facts.ARGOCD_COMPONENT / "values.yaml"
    if not env:
        return [base]
    overlay = base.with_name(f"values-{env}.yaml")
    if overlay.is_file():
        return [base, overlay]
    if env != DEFAULT_ENV:
        overlays = base.parent.glob("values-*.yaml")
        known = sorted({DEFAULT_ENV, *(p.stem.removeprefix("values-") for p in overlays)})
        raise UserError(
            f"--env {env!r}: there is no {overlay.name} beside {base}. "
            f"Environments: {', '.join(known)}.",
            code=2,
        )
    return [base]


def clusters(root: Path, gitops_path: str, env: str | None) -> list[appset.Cluster]:
    """The clusters Argo CD's clusters generator sees, as the environment's values declare them."""
    files = values_files(root, gitops_path, env or DEFAULT_ENV)
    return appset.clusters_from_values(facts.install_inputs(files).values)


def dump_values(values: dict[str, Any]) -> str:
    from tasks.core import yamldata

    return yamldata.dump(values)


# -- install -------------------------------------------------------------------------------


def install(
    runner: Runner,
    kube: Kube,
    *,
    version: str,
    files: list[Path],
    chart: str | None,
    timeout: float,
    say: Callable[[str], None],
) -> None:
    inputs = facts.install_inputs(files)
    if chart is None and inputs.wrapper_version and inputs.wrapper_version != version:
        say(
            f"warning: versions.argocd_chart is {version} but {files[0].parent}/Chart.yaml pins "
            f"argo-cd {inputs.wrapper_version}: Argo CD will move itself to that version once it "
            "syncs (inv gitops.generate brings them in step)"
        )
    listed = runner.check(plan.helm_release(kube))
    if listed.observed and not listed.ok:
        raise CommandFailed(
            f"helm cannot list the releases in argocd (exit {listed.returncode}):\n"
            f"{tail(listed.stderr)}\nIs the cluster up? inv talos.health",
            returncode=listed.returncode,
            stderr=listed.stderr,
        )
    release = facts.parse_helm_list(listed.stdout, plan.RELEASE)
    same_chart = chart is not None or (release is not None and release.chart_version == version)
    if release is not None and release.status == "deployed" and same_chart:
        current = facts.parse_helm_values(runner.capture(plan.helm_values(kube)))
        if current == inputs.values:
            say(f"Argo CD (argo-cd {release.chart_version}) has these values: nothing to do")
            return
    wrapped = " (the argo-cd part of the wrapper chart's values)" if inputs.wrapper_version else ""
    say(f"values on stdin from {', '.join(str(f) for f in files)}{wrapped}")
    steps = []
    if chart is None:
        steps.append(plan.repo_add(inputs.repo_url or plan.DEFAULT_REPO_URL))
    chart_ref = chart or f"{plan.REPO_NAME}/{plan.CHART}"
    steps.append(
        plan.helm_install(
            kube, chart_ref, None if chart else version, dump_values(inputs.values), timeout
        )
    )
    runner.execute(steps)
    what = "upgraded" if release else "installed"
    runner.when_executed(
        lambda: say(f"Argo CD {what} (release {plan.RELEASE}, namespace argocd) and ready")
    )


# -- argocd --core ---------------------------------------------------------------------------


def prepare_argocd(runner: Runner, kube: Kube) -> None:
    """Write the overlay kubeconfig ``argocd --core`` reads its namespace from."""
    if not kube.kubeconfig.exists():  # only while planning (kube.resolve): nothing to read yet
        runner.say(f"# write {kube.overlay}")
        return
    try:
        text = kube.kubeconfig.read_text()
    except OSError as exc:
        raise UserError(f"{kube.kubeconfig}: cannot read the kubeconfig ({exc.strerror})") from None
    runner.write(overlay_for(kube, text))


# -- status and waiting ----------------------------------------------------------------------


def statuses(runner: Runner, kube: Kube, timeout: float = 30.0) -> list[facts.AppStatus]:
    listing = plan.list_applications(kube, timeout)
    if not kube.kubeconfig.exists():
        # Only while planning before the cluster exists (kube.resolve): no application yet.
        runner.say(f"$ {listing.display()}")
        return []
    return facts.parse_applications(runner.capture(listing))


def wait_until_ready(
    runner: Runner,
    kube: Kube,
    names: list[str],
    *,
    timeout: float,
    interval: float,
    say: Callable[[str], None],
    clock: Clock | None = None,
) -> None:
    """Poll until every named application exists, Synced and Healthy; bounded by ``timeout``."""
    clock = clock or Clock()
    deadline = clock.now() + timeout
    last: dict[str, str] = {}

    def probe() -> tuple[bool, str]:
        remaining = max(0.0, deadline - clock.now())
        try:
            found = {s.name: s for s in statuses(runner, kube, max(2.0, min(30.0, remaining)))}
            error = ""
        except CommandFailed as exc:
            found, error = {}, exc.text
        pending = []
        for name in names:
            state = found.get(name)
            text = "not created yet" if state is None else f"{state.sync}/{state.health}"
            if state is None or not state.ready:
                pending.append(
                    f"{name} ({text}{': ' + state.message if state and state.message else ''})"
                )
            if not error and last.get(name) != text:
                say(f"  {name}: {text}")
                last[name] = text
        if error:
            pending.append(f"could not read them: {error}")
        return not pending, "\n".join(pending)

    runner.wait_until(
        probe,
        timeout=timeout,
        interval=interval,
        what=f"{len(names)} application(s) to be Synced and Healthy",
        look_at="inv gitops.status; argocd app get <name> --core",
        clock=clock,
    )


def names_or_all(runner: Runner, kube: Kube, apps: list[str]) -> list[str]:
    if apps:
        return apps
    names = [s.name for s in statuses(runner, kube)]
    if not names:

        def none_yet() -> list[str]:
            raise NoApplications(
                "No Argo CD applications in the cluster yet: run inv gitops.bootstrap."
            )

        return runner.assume_when_planning(none_yet, fresh=[], unobservable=NoApplications)
    return names


class NoApplications(UserError):
    """The cluster has no Argo CD Application yet."""


# -- bootstrap -------------------------------------------------------------------------------


def root_application_files(root: Path, bootstrap: Path) -> list[Path]:
    """The files directly in deploy/bootstrap that hold an Application (the app-of-apps root)."""
    from tasks.core import yamldata

    directory = root / bootstrap
    found = []
    for path in sorted(directory.glob("*.y*ml")):
        docs = yamldata.load_all(path.read_text())
        if any(isinstance(d, dict) and d.get("kind") == "Application" for d in docs):
            found.append(path)
    if not found:
        raise UserError(f"No root Application in {directory}/*.yaml: nothing to bootstrap from.")
    return found


def layer_apps(apps: list[appset.App], prefix: str) -> list[str]:
    return [a.name for a in apps if any(p.startswith(prefix) for p in a.source_paths)]


def bootstrap(
    runner: Runner,
    kube: Kube,
    *,
    root: Path,
    gitops_path: str,
    key_file: Path,
    clusters: list[appset.Cluster],
    timeout: float,
    interval: float,
    say: Callable[[str], None],
    clock: Clock | None = None,
) -> None:
    from tasks.secrets import ops as secrets_ops

    # Facts first: a tree that does not render, or has no root, stops before any change.
    bootstrap = bootstrap_dir(gitops_path)
    layer_prefix = f"{gitops_path.rstrip('/')}/infrastructure/"
    infra = layer_apps(appset.render_tree(root, bootstrap, clusters), layer_prefix)
    if not infra:
        raise UserError(f"No application renders from {layer_prefix}*: check {bootstrap}.")
    roots = root_application_files(root, bootstrap)
    runner.converge(secrets_ops.bootstrap(kube.kubectl(), key_file))
    for path in roots:
        runner.run(plan.apply_file(kube, path.relative_to(root)))
    say(f"waiting for the {layer_prefix.rstrip('/')} layer ({len(infra)} applications)")
    wait_until_ready(runner, kube, infra, timeout=timeout, interval=interval, say=say, clock=clock)
    runner.when_executed(
        lambda: say(f"{layer_prefix.rstrip('/')}: every application Synced and Healthy")
    )


# -- diff and ui -----------------------------------------------------------------------------


def diff(runner: Runner, kube: Kube, apps: list[str], say: Callable[[str], None]) -> list[str]:
    """The applications that drift from git (their diffs printed)."""
    drifted = []
    for app in apps:
        result = runner.check(plan.diff(kube, app))
        if not result.observed or result.returncode == 0:
            continue
        if result.returncode == 1:
            drifted.append(app)
            say(f"--- {app}: drift")
            say(result.stdout.rstrip())
            continue
        raise CommandFailed(
            f"argocd app diff {app} failed (exit {result.returncode}):\n"
            f"{runner.mask(tail(result.stderr or result.stdout))}",
            returncode=result.returncode,
            stderr=runner.mask(result.stderr),
        )
    return drifted


@dataclass(frozen=True)
class InitialPassword:
    """The initial admin password (None: the Secret is gone); ``observed`` False when nothing
    could be read (planning before the cluster or kubectl exists)."""

    password: str | None
    observed: bool = True


def initial_password(runner: Runner, kube: Kube) -> InitialPassword:
    """The initial admin password, registered for masking."""
    if not kube.kubeconfig.exists():  # only while planning (kube.resolve): no cluster yet
        return InitialPassword(None, observed=False)
    result = runner.check(plan.initial_password(kube))
    if not result.observed:
        return InitialPassword(None, observed=False)
    if not result.ok or not result.stdout.strip():
        return InitialPassword(None)
    try:
        password = base64.b64decode(result.stdout.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise UserError("The initial admin Secret holds no base64 password.") from None
    runner.add_secret(password)
    return InitialPassword(password)


def password_line(password: str | None, *, show: bool) -> str:
    if password is None:
        return (
            f"user admin: no {plan.INITIAL_ADMIN_SECRET} (deleted after the first login?): "
            "use the password you set"
        )
    return f"user admin, password {password if show else MASK}" + (
        "" if show else " (inv gitops.ui --show to print it)"
    )
