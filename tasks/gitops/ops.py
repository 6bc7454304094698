"""What each gitops task does: operations (:mod:`tasks.core.operation`) on the cluster access
(:class:`Kube`) that the tasks converge."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.core import operation as op
from tasks.core.errors import CommandFailed, UserError
from tasks.core.operation import Op
from tasks.core.steps import MASK, tail
from tasks.core.waits import Clock
from tasks.deploytree import appset
from tasks.gitops import facts, plan
from tasks.gitops.kube import Kube, overlay_for

if TYPE_CHECKING:
    from tasks.core.runner import Runner


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
    kube: Kube, *, version: str, files: list[Path], chart: str | None, timeout: float
) -> Op[None]:
    inputs = facts.install_inputs(files)
    if chart is None and inputs.wrapper_version and inputs.wrapper_version != version:
        yield op.Say(
            f"warning: versions.argocd_chart is {version} but {files[0].parent}/Chart.yaml pins "
            f"argo-cd {inputs.wrapper_version}: Argo CD will move itself to that version once it "
            "syncs (inv gitops.generate brings them in step)"
        )
    listed = yield from op.probe(plan.helm_release(kube))
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
        current = facts.parse_helm_values((yield from op.capture(plan.helm_values(kube))))
        if current == inputs.values:
            yield op.Say(
                f"Argo CD (argo-cd {release.chart_version}) has these values: nothing to do"
            )
            return
    wrapped = " (the argo-cd part of the wrapper chart's values)" if inputs.wrapper_version else ""
    yield op.Say(f"values on stdin from {', '.join(str(f) for f in files)}{wrapped}")
    steps = []
    if chart is None:
        steps.append(plan.repo_add(inputs.repo_url or plan.DEFAULT_REPO_URL))
    chart_ref = chart or f"{plan.REPO_NAME}/{plan.CHART}"
    steps.append(
        plan.helm_install(
            kube, chart_ref, None if chart else version, dump_values(inputs.values), timeout
        )
    )
    yield from op.execute(steps)
    what = "upgraded" if release else "installed"
    yield op.Report(f"Argo CD {what} (release {plan.RELEASE}, namespace argocd) and ready")


# -- argocd --core ---------------------------------------------------------------------------


def prepare_argocd(kube: Kube) -> Op[None]:
    """Write the overlay kubeconfig ``argocd --core`` reads its namespace from."""
    if not kube.kubeconfig.exists():  # only while planning (kube.resolve): nothing to read yet
        yield op.Say(f"# write {kube.overlay}")
        return
    try:
        text = kube.kubeconfig.read_text()
    except OSError as exc:
        raise UserError(f"{kube.kubeconfig}: cannot read the kubeconfig ({exc.strerror})") from None
    yield overlay_for(kube, text)


# -- status and waiting ----------------------------------------------------------------------


def statuses(kube: Kube, timeout: float = 30.0) -> Op[list[facts.AppStatus]]:
    if not kube.kubeconfig.exists():
        # Only while planning before the cluster exists (kube.resolve): no application yet.
        yield op.Say(f"$ {plan.list_applications(kube, timeout).display()}")
        return []
    return (yield from op.fact(lambda runner: facts.read_statuses(runner, kube, timeout)))


def wait_until_ready(
    kube: Kube,
    names: list[str],
    *,
    timeout: float,
    interval: float,
    clock: Clock | None = None,
) -> Op[None]:
    """Poll until every named application exists, Synced and Healthy; bounded by ``timeout``."""
    clock = clock or Clock()
    deadline = clock.now() + timeout
    last: dict[str, str] = {}

    def probe(runner: Runner) -> tuple[bool, str]:
        remaining = max(0.0, deadline - clock.now())
        try:
            listed = facts.read_statuses(runner, kube, max(2.0, min(30.0, remaining)))
            found = {s.name: s for s in listed}
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
                runner.say(f"  {name}: {text}")  # progress, printed as it is seen
                last[name] = text
        if error:
            pending.append(f"could not read them: {error}")
        return not pending, "\n".join(pending)

    yield from op.wait(
        probe,
        timeout=timeout,
        interval=interval,
        what=f"{len(names)} application(s) to be Synced and Healthy",
        look_at="inv gitops.status; argocd app get <name> --core",
        clock=clock,
    )


def names_or_all(kube: Kube, apps: list[str]) -> Op[list[str]]:
    if apps:
        return (yield from op.just(apps))
    names = [s.name for s in (yield from statuses(kube))]
    if not names:

        def none_yet() -> list[str]:
            raise NoApplications(
                "No Argo CD applications in the cluster yet: run inv gitops.bootstrap."
            )

        fresh: list[str] = []  # planning before anything is deployed
        return (yield from op.assume(none_yet, fresh=fresh, unobservable=NoApplications))
    return names


class NoApplications(UserError):
    """The cluster has no Argo CD Application yet."""


def sync(kube: Kube, app: str, *, prune: bool, timeout: float) -> Op[None]:
    """Sync one application now (``argocd app sync --core``)."""
    yield from prepare_argocd(kube)
    yield from op.run(plan.sync(kube, app, prune=prune, timeout=timeout))
    yield op.Report(f"{app}: synced")


def wait(kube: Kube, apps: list[str], timeout: float) -> Op[None]:
    """Wait for the named applications (default: every one) with ``argocd app wait --core``."""
    names = yield from names_or_all(kube, apps)
    if not names:
        # Only while planning: a real run without applications stopped in names_or_all.
        yield op.Say("# no application in the cluster yet: nothing to wait for")
        return
    yield from prepare_argocd(kube)
    yield from op.run(plan.wait(kube, names, timeout))
    yield op.Report(f"{len(names)} application(s) Synced and Healthy")


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
    kube: Kube,
    *,
    root: Path,
    gitops_path: str,
    key_file: Path,
    clusters: list[appset.Cluster],
    timeout: float,
    interval: float,
    clock: Clock | None = None,
) -> Op[None]:
    from tasks.secrets import ops as secrets_ops

    # Facts first: a tree that does not render, or has no root, stops before any change.
    bootstrap = bootstrap_dir(gitops_path)
    layer_prefix = f"{gitops_path.rstrip('/')}/infrastructure/"
    infra = layer_apps(appset.render_tree(root, bootstrap, clusters), layer_prefix)
    if not infra:
        raise UserError(f"No application renders from {layer_prefix}*: check {bootstrap}.")
    roots = root_application_files(root, bootstrap)
    yield from secrets_ops.bootstrap(kube.kubectl(), key_file)
    for path in roots:
        yield from op.run(plan.apply_file(kube, path.relative_to(root)))
    yield op.Say(f"waiting for the {layer_prefix.rstrip('/')} layer ({len(infra)} applications)")
    yield from wait_until_ready(kube, infra, timeout=timeout, interval=interval, clock=clock)
    yield op.Report(f"{layer_prefix.rstrip('/')}: every application Synced and Healthy")


# -- diff and ui -----------------------------------------------------------------------------


def diff(kube: Kube, apps: list[str]) -> Op[list[str]]:
    """The applications that drift from git (their diffs printed)."""
    drifted = []
    for app in apps:
        result = yield from op.probe(plan.diff(kube, app))
        if not result.observed or result.returncode == 0:
            continue
        if result.returncode == 1:
            drifted.append(app)
            yield op.Say(f"--- {app}: drift")
            yield op.Say(result.stdout.rstrip())
            continue
        detail = yield from op.masked(tail(result.stderr or result.stdout))
        raise CommandFailed(
            f"argocd app diff {app} failed (exit {result.returncode}):\n{detail}",
            returncode=result.returncode,
            stderr=(yield from op.masked(result.stderr)),
        )
    return drifted


def drift(kube: Kube, apps: list[str]) -> Op[None]:
    """``gitops.diff``: every drift printed; exit 1 when anything drifts."""
    names = yield from names_or_all(kube, apps)
    yield from prepare_argocd(kube)
    drifted = yield from diff(kube, names)
    if drifted:
        raise UserError(f"drift in {len(drifted)} application(s): {', '.join(drifted)}", code=1)
    yield op.Report(f"no drift in {len(names)} application(s)")


@dataclass(frozen=True)
class InitialPassword:
    """The initial admin password (None: the Secret is gone); ``observed`` False when nothing
    could be read (planning before the cluster or kubectl exists)."""

    password: str | None
    observed: bool = True


def initial_password(kube: Kube) -> Op[InitialPassword]:
    """The initial admin password, registered for masking."""
    if not kube.kubeconfig.exists():  # only while planning (kube.resolve): no cluster yet
        return (yield from op.just(InitialPassword(None, observed=False)))
    result = yield from op.probe(plan.initial_password(kube))
    if not result.observed:
        return InitialPassword(None, observed=False)
    if not result.ok or not result.stdout.strip():
        return InitialPassword(None)
    try:
        password = base64.b64decode(result.stdout.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise UserError("The initial admin Secret holds no base64 password.") from None
    yield op.Secret((password,))
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


def ui(kube: Kube, port: int, *, show: bool) -> Op[None]:
    """The initial admin password (masked unless ``show``), then the UI port-forwarded."""
    found = yield from initial_password(kube)
    if found.observed:
        # Printed directly: the runner would mask the password that --show asks for.
        print(password_line(found.password, show=show), flush=True)
    else:  # planning, before the cluster (or kubectl) exists
        yield op.Say(
            f"# user admin: the password is read from {plan.INITIAL_ADMIN_SECRET} when run"
        )
    yield op.Say(f"Argo CD UI on http://localhost:{port} (Ctrl-C to stop)")
    code = yield from op.stream(plan.port_forward(kube, port))
    if code not in (0, 130):
        raise UserError(f"kubectl port-forward exited with {code}.", code=code)
