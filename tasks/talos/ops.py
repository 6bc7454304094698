"""What each ``talos`` task does, as operations (:mod:`tasks.core.operation`): facts first,
then the steps of the plan, each yielded to the runner that converges it.

Tasks in ``__init__`` only parse options and ``runner.converge`` these; the bootstrap and
restore phases ``yield from`` them. Read-only probes of the runner live in :mod:`facts` and are
read mid-way as ``op.fact`` steps; nothing here holds a runner or asks whether a run is dry.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tasks.core import console
from tasks.core import operation as op
from tasks.core.errors import CommandFailed, ConfigError, UserError
from tasks.core.runner import Command, MakeDir, Remove, Runner, WriteFile, tail
from tasks.secrets import ops as secrets_ops
from tasks.secrets.sopsconfig import SOPS_CONFIG
from tasks.talos import certificates, facts, machineconfig, plan, snapshots, support
from tasks.talos.settings import Settings

if TYPE_CHECKING:
    from invoke.context import Context

    from tasks.core.config import ClusterSpec, Node
    from tasks.core.operation import Op

T = TypeVar("T")


@dataclass(frozen=True)
class Env:
    """Everything a task needs: the spec, the settings and the runner of this invocation (the
    runner is the task layer's: the operations here never touch it, ``runner.converge`` drives
    them)."""

    c: Context
    spec: ClusterSpec
    settings: Settings
    runner: Runner

    @classmethod
    def load(cls, c: Context) -> Env:
        from tasks.core import config

        spec = config.load(c)
        return cls(c, spec, Settings.from_context(c, spec), Runner.from_context(c))

    def ensure_state(self) -> Op[None]:
        """The state dir, private to the operator (it holds credentials)."""
        yield MakeDir(
            self.settings.state.root,
            mode=0o700,
            step="the state directory",
            hint="set state.dir in invoke.yaml or INVOKE_STATE_DIR to a writable directory",
        )
        yield op.Proof(lambda: self.settings.state.root.chmod(0o700))

    def nodes(self, name: str | None) -> list[Node]:
        return [self.spec.node(name)] if name else list(self.spec.nodes)

    def one_node(self, name: str | None) -> Node:
        return self.spec.node(name) if name else plan.first_control_plane(self.spec)


def until_ok(env: Env, command: Command, *, timeout: float, what: str, look_at: str) -> Op[None]:
    """Retry ``command`` every poll interval (talos.poll_interval) until it succeeds."""
    yield from op.until_ok(
        command, timeout=timeout, interval=env.settings.poll_interval, what=what, look_at=look_at
    )


def in_parallel(nodes: Sequence[Node], work: Callable[[Node], Op[T]]) -> Op[dict[str, T]]:
    """``work`` for every node at once; every node is attempted, failures reported together."""
    return (
        yield from op.parallel(
            {node.name: functools.partial(work, node) for node in nodes}, noun="node"
        )
    )


# -- secrets ---------------------------------------------------------------------------------


def secrets(env: Env) -> Op[None]:
    """Generate the secrets bundle once and commit it sops-encrypted; never overwrite it."""
    s = env.settings
    state = facts.bundle_state(s.secrets_file)
    if state is facts.Bundle.ENCRYPTED:
        console.ok(f"{s.secrets_file} exists (sops-encrypted): nothing to do.")
        return (yield from op.just(None))
    if state is facts.Bundle.PLAINTEXT:
        raise UserError(facts.plaintext_message(s.secrets_file))
    if not SOPS_CONFIG.is_file():
        raise ConfigError(
            f"{SOPS_CONFIG} not found: sops needs a creation rule for {s.secrets_file} "
            "(`inv secrets.init` writes it; run from the repository root)."
        )
    steps = []
    if s.generated_secrets.is_file():
        console.info(f"reusing the bundle generated earlier at {s.generated_secrets}")
    else:
        steps.append(plan.gen_secrets(s, env.spec))
    yield from env.ensure_state()
    yield MakeDir(s.secrets_file.parent, step="the secrets bundle")
    yield from op.execute(steps)
    root = Path.cwd()
    yield from secrets_ops.write_encrypted(
        root, str(s.secrets_file), lambda out: plan.encrypt_secrets(s, root, output=out)
    )

    def encrypted() -> None:
        if facts.bundle_state(s.secrets_file) is not facts.Bundle.ENCRYPTED:
            s.secrets_file.unlink(missing_ok=True)
            raise UserError(
                f"sops did not produce an encrypted {s.secrets_file}; it was removed. "
                "Check the creation rules in .sops.yaml."
            )

    yield op.Proof(encrypted)
    yield Remove(s.generated_secrets, step="the plaintext bundle, now encrypted")
    yield op.Report(f"wrote {s.secrets_file} (sops-encrypted): commit it.")


# -- machine configs -------------------------------------------------------------------------


def node_patches(env: Env) -> dict[str, str]:
    """The committed per-node patches, each exactly what ``gitops.generate`` makes of the spec
    (so the cluster runs what git holds) and checked against the Talos schema when configured.
    """
    from ruamel.yaml.error import YAMLError

    from tasks.core import yamldata

    schema = _talos_schema(env.settings, env.spec.versions.talos)
    patches: dict[str, str] = {}
    for node in env.spec.nodes:
        path = env.settings.node_patch(node)
        try:
            found = path.read_text()
            documents = yamldata.load_all(found)
        except (OSError, YAMLError) as exc:
            raise ConfigError(
                f"{path}: {getattr(exc, 'strerror', None) or exc}: the node patches are "
                "generated from the spec; run `inv gitops.generate` and commit them."
            ) from None
        if documents != machineconfig.node_patch_documents(env.spec, node):
            raise ConfigError(
                f"{path} differs from what the cluster spec says for {node.name} (edited by "
                "hand, or the spec changed): run `inv gitops.generate` and commit the result."
            )
        if schema is not None:
            problems = machineconfig.schema_problems(
                machineconfig.node_patch_documents(env.spec, node), schema
            )
            if problems:
                raise ConfigError(
                    f"The patch for {node.name} does not match the Talos "
                    f"v{env.spec.versions.talos} schema:\n  " + "\n  ".join(problems)
                )
        patches[node.name] = found
    return patches


def _talos_schema(s: Settings, version: str) -> dict[str, Any] | None:
    path = machineconfig.schema_file(s.schema_dir, version) if s.schema_dir else None
    if path is None or not (s.schema_required or path.is_file()):
        return None
    import json

    try:
        loaded: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"Talos schema {path} unreadable ({exc}); fix talos.schema_dir."
        ) from None
    return loaded


def _bundle_values(text: str) -> list[str]:
    """Every secret scalar of a decrypted Talos bundle, registered for masking: a tool that quotes
    one back in an error must not print it."""
    from ruamel.yaml.error import YAMLError

    from tasks.core import yamldata

    try:
        data = yamldata.load(text)
    except YAMLError:
        return []
    out: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and len(node) >= 8:
            out.append(node)

    walk(data)
    return out


def config(env: Env) -> Op[None]:
    from tasks.infra.schematic import installer_image

    s = env.settings
    facts.require_patches(s)
    # Planned before talos.secrets made it (the same plan shows that first).
    yield from op.assume(
        lambda: facts.require_encrypted_bundle(s), fresh=None, unobservable=facts.NoBundle
    )
    node_patches(env)  # each committed patch is what the spec says, before anything runs
    yield from env.ensure_state()
    # A run killed between decrypt and clean-up leaves the plaintext bundle: never reuse it.
    yield Remove(s.decrypted_secrets, step="a stale decrypted bundle")
    decrypted = yield from op.run(plan.decrypt_secrets(s, Path.cwd()))
    yield op.Secret(tuple(_bundle_values(decrypted.stdout)))
    try:
        yield WriteFile(s.decrypted_secrets, decrypted.stdout, secret=True, step="secrets bundle")
        yield from op.run(plan.gen_config(s, env.spec, installer_image(env.spec)))
    finally:
        yield Remove(s.decrypted_secrets, step="the decrypted bundle")
    for node in env.spec.nodes:
        yield from op.execute(plan.node_config_plan(s, node))
    yield from op.execute(plan.talosconfig_defaults(s, env.spec))
    yield op.Proof(
        lambda: console.ok(
            f"machine configs in {s.config_dir / 'nodes'}; talosconfig: {s.talosconfig}"
        )
    )


class NotConfigured(UserError):
    """talos.config has not written the machine configs or the talosconfig yet."""


def _require(missing: list[str], what: str, how: str) -> None:
    if missing:
        raise NotConfigured(f"No {what} at {', '.join(missing)}: run {how} first.")


def require_config(env: Env, nodes: Sequence[Node]) -> Op[None]:
    """The nodes' machine configs (planned before talos.config wrote them: assumed)."""
    paths = [env.settings.node_config(n) for n in nodes]
    missing = [str(p) for p in paths if not p.is_file()]
    yield from op.assume(
        lambda: _require(missing, "machine config", "`inv talos.config`"),
        fresh=None,
        unobservable=NotConfigured,
    )


def require_talosconfig(env: Env) -> Op[None]:
    missing = [] if env.settings.talosconfig.is_file() else [str(env.settings.talosconfig)]
    yield from op.assume(
        lambda: _require(missing, "talosconfig", "`inv talos.config` (or `inv talos.bootstrap`)"),
        fresh=None,
        unobservable=NotConfigured,
    )


# -- nodes -----------------------------------------------------------------------------------


class _Unreachable(Exception):
    """No node answered: a fact a real run keeps and ``--dry`` replaces with a fresh node."""


def mode_of(env: Env, node: Node) -> Op[facts.NodeMode]:
    """The node's mode; under --dry an unreachable node is assumed fresh (maintenance)."""
    found = yield from op.fact(lambda runner: facts.node_mode(runner, env.settings, node))

    def observe() -> facts.NodeMode:
        if found.mode is facts.Mode.UNREACHABLE:
            raise _Unreachable
        return found

    try:
        return (
            yield from op.assume(
                observe,
                fresh=facts.NodeMode(facts.Mode.MAINTENANCE, facts.ASSUMED),
                unobservable=_Unreachable,
            )
        )
    except _Unreachable:  # a real run: the node did not answer
        return found


def wait_for_nodes(env: Env, nodes: Sequence[Node]) -> Op[dict[str, facts.Mode]]:
    """Wait until every node answers on the Talos API, in maintenance mode or configured."""
    s = env.settings
    modes: dict[str, facts.Mode] = {}
    last: dict[str, str] = {}

    def probe() -> Op[tuple[bool, str]]:
        for node in nodes:
            if node.name in modes:
                continue
            found = yield from mode_of(env, node)
            if found.mode is facts.Mode.UNREACHABLE:
                last[node.name] = found.detail
                continue
            mode = found.mode
            modes[node.name] = mode
            guessed = found.detail == facts.ASSUMED
            note = " (assumed: --dry plans for a fresh node)" if guessed else ""
            console.info(f"{node.name} ({node.ip}): {mode.value}{note}")
        pending = [n for n in nodes if n.name not in modes]
        detail = "\n".join(f"{n.name} ({n.ip}): {last.get(n.name) or 'no answer'}" for n in pending)
        return not pending, detail

    names = ", ".join(n.name for n in nodes)
    yield from op.poll(
        probe,
        timeout=s.timeouts.maintenance,
        interval=s.poll_interval,
        what=f"the Talos API of {names} (port 50000)",
        look_at=plan.LOOK_AT_MAINTENANCE,
    )
    return modes


def apply(env: Env, nodes: Sequence[Node]) -> Op[dict[str, facts.Mode]]:
    """apply-config to every node at once: insecure in maintenance mode, authenticated after."""
    s = env.settings
    yield from require_config(env, nodes)

    def one(node: Node) -> Op[facts.Mode]:
        applied: list[facts.Mode] = []

        def attempt() -> Op[tuple[bool, str]]:
            found = yield from mode_of(env, node)
            mode = found.mode
            if mode is facts.Mode.UNREACHABLE:
                return False, found.detail or "no answer on the Talos API"
            command = plan.apply_config(s, node, insecure=mode is facts.Mode.MAINTENANCE)
            try:
                yield from op.run(command)
            except CommandFailed as exc:
                if not any(re.search(p, exc.stderr) for p in plan.TRANSIENT):
                    raise
                return False, exc.text
            applied.append(mode)
            return True, ""

        yield from op.poll(
            attempt,
            timeout=s.timeouts.apply,
            interval=s.poll_interval,
            what=f"{node.name} ({node.ip}) to accept its machine config",
            look_at=plan.LOOK_AT_NODE.replace("NODE", node.name),
        )
        how = "insecure, maintenance mode" if applied[0] is facts.Mode.MAINTENANCE else "mTLS"
        console.info(f"{node.name}: config applied ({how})")
        return applied[0]

    return (yield from in_parallel(nodes, one))


# -- day 2 -----------------------------------------------------------------------------------


def preflight(env: Env, purpose: support.Purpose, *, offline: bool = False) -> Op[support.Versions]:
    """Check every version pair (support table in :mod:`tasks.talos.support`); print the
    table; stop on a pair that would break this operation. Offline, or before a talosconfig
    exists, only the spec's own pins are compared (the pinned talosctl stands in for the
    installed one)."""
    s, spec = env.settings, env.spec
    tools = spec.versions.tools
    running: dict[str, str] = {}
    kubernetes = client = None
    live = not offline and s.talosconfig.is_file()
    if live:
        client = yield from op.fact(lambda runner: facts.client_version(runner, s))
        for node in spec.nodes:
            found = yield from op.fact(
                functools.partial(facts.talos_version, settings=s, node=node)
            )
            if found:
                running[node.name] = found
        kubernetes = yield from op.fact(lambda runner: facts.kubernetes_version(runner, s))
    versions = support.Versions(
        talos=spec.versions.talos,
        kubernetes=spec.versions.kubernetes,
        cilium=spec.versions.cilium,
        gateway_api=spec.versions.gateway_api,
        argocd=tools.get("argocd"),
        talosctl=client or tools.get("talosctl"),
        running_talos=running,
        running_kubernetes=kubernetes,
    )
    findings = support.assess(versions, purpose)
    what = "spec and cluster" if running or kubernetes else "spec only"
    console.table(
        ["pair", "result", "detail"],
        [(f.pair, f.level.value, f.detail) for f in findings],
        title=f"Version preflight ({what}; support table: tasks/talos/support.py)",
    )
    for f in findings:
        if f.level is support.Level.WARN and f.fix:
            console.warn(f"{f.pair}: {f.fix}")
    if live and not running:
        yield op.Proof(
            lambda: console.warn(
                "no node answered `talosctl version`: the running versions were not checked"
            )
        )
    bad = support.failures(findings)
    if bad:
        lines = "\n".join(f"  - {f.pair}: {f.detail}.\n    {f.fix}." for f in bad)
        raise UserError(f"Version preflight failed ({purpose.value}):\n{lines}")
    console.ok(f"version preflight passed for {purpose.value}")
    return versions


def passthrough(
    env: Env, command: Command, look_at: str = "", *, terminal: bool = False
) -> Op[None]:
    """talosctl's output shown as it comes (masked), or the terminal itself for a TUI; a
    non-zero exit becomes the task's exit code."""
    yield from require_talosconfig(env)
    code = yield from op.stream(command, terminal=terminal)
    if code != 0:
        what = command.step or " ".join(command.argv[:2])
        extra = f"\n  look at: {look_at}" if look_at else ""
        raise UserError(f"{what}: {command.tool} exited with code {code}.{extra}", code=code)


def health(env: Env) -> Op[None]:
    yield from passthrough(
        env, plan.health(env.settings, env.spec, env.settings.timeouts.health), plan.LOOK_AT_HEALTH
    )


def snapshot(env: Env, *, talos: str | None = None, kubernetes: str | None = None) -> Op[Path]:
    """``talosctl etcd snapshot`` into <state>/backups, named with the time and the versions the
    cluster runs, 0600 and whole (a temporary file renamed when the snapshot is complete); then
    only the newest ``talos.snapshot_keep`` are kept."""
    s, spec = env.settings, env.spec
    yield from require_talosconfig(env)
    if talos is None:
        cp = plan.first_control_plane(spec)
        talos = yield from op.fact(lambda runner: facts.talos_version(runner, s, cp))
    if kubernetes is None:
        kubernetes = yield from op.fact(lambda runner: facts.kubernetes_version(runner, s))
    yield from env.ensure_state()
    yield MakeDir(s.backups, mode=0o700, step="the etcd backups")
    target = s.backups / snapshots.name_for(datetime.now(UTC), talos=talos, kubernetes=kubernetes)
    console.step(f"etcd snapshot to {target}")

    def whole(stager: op.Stager) -> Op[None]:
        written = yield from stager.stage(
            target, lambda out: plan.etcd_snapshot(s, spec, out), mode=0o600
        )
        yield op.Proof(lambda: _require_snapshot(written))

    yield from op.staged(whole)
    # The new snapshot is one of the kept ones (under --dry it was not taken, so not listed).
    earlier = snapshots.found_in(p for p in listing(s.backups) if p != target)
    for old in snapshots.to_prune(earlier, s.snapshot_keep - 1):
        yield Remove(old.path, step=f"prune {old.path.name} (talos.snapshot_keep)")
    yield op.Proof(
        lambda: console.ok(f"etcd snapshot {target.name} ({target.stat().st_size} bytes)")
    )
    return target


def _require_snapshot(path: Path) -> None:
    """talosctl reported success: the file must hold something (an empty one restores nothing)."""
    if path.stat().st_size == 0:
        raise UserError(
            "talosctl etcd snapshot exited 0 but wrote nothing; no snapshot was kept.\n"
            f"  look at: {plan.LOOK_AT_ETCD}"
        )


def listing(directory: Path) -> list[Path]:
    return list(directory.iterdir()) if directory.is_dir() else []


def show_certs(env: Env, *, days: float, as_json: bool, renew: bool) -> Op[None]:
    """The expiry table (or JSON); with ``renew``, toolkit-owned certificates due within
    ``days`` are issued again, each proven before it replaces the old file."""
    s, name = env.settings, env.spec.cluster.name
    found, missing = yield from op.fact(lambda runner: facts.certificates(runner, s, name))
    now = certificates.now()
    due = [
        c
        for c in found
        if c.renewed_by == certificates.RENEW and c.status(now, days) != certificates.OK
    ]
    if renew and due:
        # Under --json stdout carries the one JSON document: the renewal's progress goes to stderr.
        with contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext():
            yield from renew_certs(env, {c.source for c in due})
        refreshed = yield from op.read_back(lambda runner: facts.certificates(runner, s, name))
        if refreshed is not None:
            found, missing = refreshed
    if as_json:
        console.print_json(
            {
                "warn_days": days,
                "certificates": [
                    {
                        "name": c.name,
                        "source": c.source,
                        "subject": c.subject,
                        "not_after": c.not_after.isoformat(),
                        "days_left": round(c.days_left(now), 1),
                        "status": c.status(now, days),
                        "renewed_by": c.renewed_by,
                    }
                    for c in found
                ],
                "unread": missing,
            }
        )
    else:
        console.table(
            ["certificate", "status", "expires", "days", "subject", "renewed by"],
            certificates.rows(found, now, days),
            title=f"Certificates (warn under {days:g} days)",
        )
        for line in missing:
            console.warn(f"not checked: {line}")
    expired = [c for c in found if c.status(now, days) == certificates.EXPIRED]
    soon = [c for c in found if c.status(now, days) == certificates.SOON]
    owned = [c.name for c in [*expired, *soon] if c.renewed_by == certificates.RENEW]
    if owned and not renew:
        console.warn(f"renew with `inv talos.certs --renew`: {', '.join(owned)}")
    if expired:
        raise UserError(
            f"{len(expired)} certificate(s) expired: {', '.join(c.name for c in expired)}."
        )


def renew_certs(env: Env, sources: set[str]) -> Op[None]:
    s, spec = env.settings, env.spec

    def talosconfig(stager: op.Stager) -> Op[None]:
        fresh = yield from stager.stage(
            s.talosconfig, lambda out: plan.talosconfig_new(s, spec, out), mode=0o600
        )
        yield op.Proof(lambda: _prove_renewed(env, fresh, "talosconfig"))

    if str(s.talosconfig) in sources:
        console.step("renew the talosconfig client certificate")
        yield from op.staged(talosconfig)
    if str(s.kubeconfig) in sources:
        console.step("renew the admin kubeconfig")
        yield from op.run(plan.fetch_kubeconfig(s, spec))
        yield op.Proof(lambda: _prove_renewed(env, s.kubeconfig, "kubeconfig"))


def _prove_renewed(env: Env, path: Path, what: str) -> None:
    """The new file holds the cluster's context with a client certificate valid a month on."""
    from tasks.core import yamldata

    name = env.spec.cluster.name
    read = certificates.from_talosconfig if what == "talosconfig" else certificates.from_kubeconfig
    try:
        client = read(yamldata.load(path.read_text()), name, str(path))[0]
    except (certificates.Unreadable, OSError, ValueError) as exc:
        raise UserError(f"The renewed {what} is not usable ({exc}); the old one is kept.") from None
    if client.status(certificates.now()) != certificates.OK:
        raise UserError(
            f"The renewed {what} certificate still expires {client.not_after:%Y-%m-%d}; "
            "the old one is kept."
        )
    console.ok(f"{what}: client certificate valid until {client.not_after:%Y-%m-%d}")


#: What talos.verify lists, one kubectl call each (field of verify.Facts, kinds, namespace).
VERIFY_LISTS: tuple[tuple[str, str, str | None], ...] = (
    ("nodes", "nodes", None),
    ("workloads", "deployments,statefulsets,daemonsets", None),
    ("gateways", "gateways.gateway.networking.k8s.io", None),
    ("certificates", "certificates.cert-manager.io", None),
    ("postgres", "clusters.postgresql.cnpg.io", None),
    ("databases", "databases.postgresql.cnpg.io", None),
    ("slices", "endpointslices.discovery.k8s.io", None),
    ("applications", "applications.argoproj.io", "argocd"),
)


def _verify_outcomes(env: Env, *, telemetry: bool) -> Op[list[Any]]:
    from tasks.talos import verification as v

    s = env.settings
    lists: dict[str, list[Any]] = {}
    unread: list[v.Outcome] = []
    for field, kinds, namespace in VERIFY_LISTS:
        result = yield from op.probe(
            plan.kubectl_list(s, kinds, s.timeouts.command, namespace=namespace)
        )
        items: list[Any] = []
        if result.observed and result.ok:
            try:
                items = list(json.loads(result.stdout).get("items") or [])
            except (ValueError, AttributeError):
                unread.append(v.Outcome(f"list {kinds}", False, "kubectl printed no JSON list"))
        elif result.observed:
            why = tail(result.stderr or result.stdout, 1) or f"exit {result.returncode}"
            unread.append(v.Outcome(f"list {kinds}", False, why))
        lists[field] = items
    outcomes, address, port = v.checks(v.Facts(**lists))
    if address:
        outcomes.insert(4, gateway_answers(address, port, s.timeouts.command))
    if telemetry:
        outcomes += yield from telemetry_round_trip(env)
    outcomes += unread
    return outcomes


def verify(env: Env, *, as_json: bool, junit: str | None, telemetry: bool = True) -> Op[None]:
    """Check that the platform works (:mod:`tasks.talos.verification`); exit 1 if one fails."""
    from tasks.talos import verification as v

    s = env.settings
    facts.require_file(s.kubeconfig, "kubeconfig", "talos.kubeconfig")
    # Under --json stdout carries the one JSON document: progress goes to stderr meanwhile.
    with contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext():
        outcomes = yield from _verify_outcomes(env, telemetry=telemetry)
    passed = sum(o.ok for o in outcomes)
    yield op.PlanNote(lambda: console.info("--dry: the lists above were read; nothing changed"))
    if junit:
        yield WriteFile(Path(junit), v.junit(outcomes), mode=0o644, step="JUnit report")
    if as_json:
        console.print_json(
            {
                "ok": passed == len(outcomes),
                "checks": [{"name": o.name, "ok": o.ok, "detail": o.detail} for o in outcomes],
            }
        )
    else:
        console.table(
            ["check", "result", "detail"],
            [(o.name, "ok" if o.ok else "FAIL", o.detail) for o in outcomes],
            title="Platform verification",
        )
    failed = [o.name for o in outcomes if not o.ok]
    if failed:
        raise UserError(f"{len(failed)} of {len(outcomes)} checks failed: {', '.join(failed)}.")
    if not as_json:  # stdout stays one JSON document
        console.ok(f"all {len(outcomes)} checks passed")


def telemetry_round_trip(env: Env) -> Op[list[Any]]:
    """A trace, a log and a metric sent to an OTel Collector pod, each looked for in its backend
    (:mod:`tasks.talos.verification`); one outcome per signal."""
    from tasks.talos import verification as v

    s = env.settings
    listed = yield from op.probe(
        plan.kubectl_list(
            s, "pods", s.timeouts.command, namespace=v.OBSERVABILITY, selector=v.COLLECTOR_SELECTOR
        )
    )
    try:
        pod = v.running_pod(json.loads(listed.stdout).get("items") or []) if listed.ok else None
    except (ValueError, AttributeError):
        pod = None
    if pod is None and listed.observed:
        return [
            v.Outcome(name, False, f"no running OTel Collector pod in {v.OBSERVABILITY}")
            for name in v.TELEMETRY_CHECKS.values()
        ]
    pod = pod or "OTEL-COLLECTOR-POD"
    probe = v.new_probe()
    sent: dict[str, str] = {}
    for signal, body in v.payloads(probe).items():
        try:
            yield from op.run(plan.raw_post(s, v.collector_path(pod, signal), json.dumps(body), 30))
        except UserError as exc:
            sent[signal] = f"the collector refused it: {tail(exc.text, 1)}"
    outcomes = []
    for signal, path in v.query_paths(probe).items():
        name = v.TELEMETRY_CHECKS[signal]
        if signal in sent:
            outcomes.append(v.Outcome(name, False, sent[signal]))
            continue

        def look(runner: Runner, signal: str = signal, path: str = path) -> tuple[bool, str]:
            answer = runner.check(plan.raw_get(s, path, 30))
            if answer.ok and v.found(signal, answer.stdout):
                return True, "found"
            return False, "not there yet" if answer.ok else tail(answer.stderr, 1) or "no answer"

        arrived = yield from op.wait(
            look,
            timeout=s.timeouts.command,
            interval=s.poll_interval,
            what=f"the {signal} sent as {probe.marker} to show up",
            look_at="`kubectl -n observability logs ds/otel-collector-agent`",
            strict=False,
        )
        detail = f"{probe.marker} via {pod}" if arrived else f"{probe.marker} not found"
        outcomes.append(v.Outcome(name, arrived, detail))
    return outcomes


def gateway_answers(address: str, port: int, timeout: float) -> Any:
    """A TLS handshake with the Gateway's address: the L2 announcement and the listener work."""
    import socket
    import ssl

    from tasks.talos.verification import Outcome

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the certificate's issuance is its own check
    name = "Gateway answers (TLS)"
    try:
        with (
            socket.create_connection((address, port), timeout=min(timeout, 10)) as raw,
            context.wrap_socket(raw, server_hostname=address) as tls,
        ):
            return Outcome(name, True, f"{address}:{port} {tls.version()}")
    except OSError as exc:
        return Outcome(name, False, f"{address}:{port}: {exc.strerror or exc}")


def upgrade(env: Env, nodes: Sequence[Node], *, force: bool) -> Op[None]:
    """Gated rolling upgrade to the pinned version with the schematic's factory installer:
    version preflight, etcd snapshot, then one node at a time (control planes first), each
    followed by a health gate; the first failure stops the roll with how to resume."""
    from tasks.infra.schematic import installer_image

    s, spec = env.settings, env.spec
    yield from require_talosconfig(env)
    found = yield from preflight(env, support.Purpose.UPGRADE)
    target = spec.versions.talos
    ordered = [n for n in spec.control_planes if n in nodes] + [
        n for n in spec.workers if n in nodes
    ]
    pending: list[Node] = []
    for node in ordered:
        running = found.running_talos.get(node.name)
        if running == target and not force:
            console.info(f"{node.name}: already at v{target}")
            continue
        console.info(
            f"{node.name}: {('v' + running) if running else 'unknown version'} -> v{target}"
        )
        pending.append(node)
    if not pending:
        console.ok(f"every node runs Talos v{target}: nothing to do.")
        return
    cp = plan.first_control_plane(spec)
    taken = yield from snapshot(
        env, talos=found.running_talos.get(cp.name), kubernetes=found.running_kubernetes
    )
    image = installer_image(spec)
    for index, node in enumerate(pending, 1):
        console.step(f"[{index}/{len(pending)}] upgrade {node.name} to {image}")
        try:
            yield from op.run(plan.upgrade_node(s, node, image, s.timeouts.upgrade))
            yield from until_ok(
                env,
                plan.health(s, spec, s.timeouts.health),
                timeout=s.timeouts.health,
                what=f"the cluster to be healthy after upgrading {node.name}",
                look_at=plan.LOOK_AT_HEALTH,
            )
        except UserError as exc:
            done = ", ".join(n.name for n in pending[: index - 1]) or "none"
            raise UserError(
                f"{exc.text}\n\nThe upgrade stopped at {node.name}; no further node was "
                f"touched (upgraded before it: {done}). Fix the cause and run `inv talos.upgrade` "
                "again: nodes already at the target are skipped. To go back, "
                f"`talosctl rollback --nodes {node.ip}` boots the previous Talos on that node; "
                f"etcd was saved first in {taken}.",
                code=exc.code,
            ) from None
    names = ", ".join(n.name for n in pending)
    yield op.Report(f"upgraded {names} to v{target}; snapshot {taken}")


def upgrade_k8s(env: Env, *, preview: bool) -> Op[None]:
    """Preflight (every node's Talos must support the target Kubernetes, one minor at a time),
    an etcd snapshot unless only previewing, talosctl's own node-by-node upgrade, then the
    cluster's health as the final gate."""
    yield from require_talosconfig(env)
    found = yield from preflight(env, support.Purpose.UPGRADE_K8S)
    if not preview:
        cp = plan.first_control_plane(env.spec)
        yield from snapshot(
            env, talos=found.running_talos.get(cp.name), kubernetes=found.running_kubernetes
        )
    yield from passthrough(
        env, plan.upgrade_k8s(env.settings, env.spec, preview=preview), plan.LOOK_AT_API
    )
    if not preview:
        s = env.settings
        yield from until_ok(
            env,
            plan.health(s, env.spec, s.timeouts.health),
            timeout=s.timeouts.health,
            what=f"the cluster to be healthy on Kubernetes {env.spec.versions.kubernetes}",
            look_at=plan.LOOK_AT_HEALTH,
        )
        yield op.Report(f"Kubernetes upgraded to {env.spec.versions.kubernetes}")


def reset(env: Env, nodes: Sequence[Node], *, yes: bool) -> Op[None]:
    yield from require_talosconfig(env)
    ordered = [n for n in env.spec.workers if n in nodes] + [
        n for n in env.spec.control_planes if n in nodes
    ]
    names = ", ".join(n.name for n in ordered)
    question = f"Wipe {names} (all data, etcd included) and reboot into maintenance mode?"
    yield op.Confirm(question, yes)
    for node in ordered:
        yield from op.run(plan.reset_node(env.settings, node))

    def forget() -> None:
        env.settings.state.forget(plan.BOOTSTRAP_FLOW)
        console.ok(f"reset {names}; they reboot into maintenance mode: run `inv talos.bootstrap`.")

    yield op.Proof(forget)


def kubeconfig(env: Env, path: str | None) -> Op[None]:
    yield from require_talosconfig(env)
    target = Path(path).expanduser() if path else env.settings.kubeconfig
    yield MakeDir(target.parent, step="the kubeconfig")
    yield from op.run(plan.fetch_kubeconfig(env.settings, env.spec, target))

    def merged() -> None:
        console.ok(f"context {env.spec.cluster.name} merged into {target}")
        console.info(f"use it: export KUBECONFIG={target}  (or kubectl --kubeconfig {target})")

    yield op.Proof(merged)
