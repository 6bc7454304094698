"""Throughput of ``inv validate``'s engine on deploy/ trees of 1x, 10x and 100x, with floors.

The larger trees hold copies of every component whose content differs (names, namespaces,
labels and hostnames renamed inside every file: ``benchmarks/_treecopy.py``), so every copy is
rendered by ``kubectl kustomize`` and schema-checked for real. Each run is its own process:
"cold" starts with an empty render cache, "warm" reuses it (what a second ``inv validate`` sees).
Per run: documents, wall seconds, documents/second, peak RSS and where the time went (read and
parse deploy/, kustomize renders, loading rendered output, schema families, policies, the rest).
kubectl renders while deploy/ is parsed: ``render`` is only the wait beyond that.

Beside it, on the same tree and documents: the render floor (``kubectl kustomize`` alone on the
same builds, as many at once as the engine runs), the parse/validate floor (libyaml load plus
precompiled jsonschema validators on the same rendered documents) and kubernetes-validate's CLI
on the same rendered files; ratios are ours / floor. Prints numbers, asserts nothing.

Last, the pre-commit latency: ``inv validate`` (every family) on a copy of this repository,
cold, unchanged (warm caches; then replayed, ``replay.py``; then with replay off), and after
editing one file (whole tree, and path-scoped as ``-- <file>``).

    python benchmarks/validate.py [--sizes 1,10,100] [--workers N] [--peers-up-to 10]
                                  [--identical] [--no-peers] [--no-precommit]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._treecopy import build_tree  # noqa: E402

DEFAULT_FAMILIES = "cluster,manifests,values,talos,policies,secrets"
SCHEMA_FAMILIES = ("family:cluster", "family:manifests", "family:values", "family:talos")


def settings(shared: Path, cache: Path, workers: int) -> Any:
    from tasks.validate.settings import Settings

    return Settings(
        shared_schemas=shared,
        schema_dir=shared / "crds",
        talos_schema_dir=shared / "talos",
        cache_dir=cache,
        workers=workers,
    )


def measure(root: Path, cache: Path, shared: Path, workers: int, families: str) -> dict[str, Any]:
    """One engine run in this process (the child side of ``--measure``)."""
    start = time.perf_counter()
    from tasks.core.runner import Runner
    from tasks.validate.engine import Workspace, fewer_collections, run

    ws = Workspace(None, root=root, settings=settings(shared, cache, workers), runner=Runner())
    with fewer_collections():  # as `inv validate` runs
        ws.tree  # noqa: B018 -- built first, so no family's time includes reading and rendering
        result = run(ws, families.split(","))
    wall = time.perf_counter() - start
    return {
        "wall": wall,
        "docs": result.documents,
        "problems": len(result.problems),
        "first_problems": [str(p) for p in result.problems[:5]],
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "stats": ws.stats.seconds,
        "roots": sorted(ws.tree.renders),
        "kubernetes": ws.kubernetes_version,
    }


def python_env(shared: Path, pycache: Path) -> dict[str, str]:
    """The environment of every measured process: byte-code cached as after a normal install
    (under a scratch prefix, whatever PYTHONDONTWRITEBYTECODE says), the pinned schemas."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    env["INVOKE_VALIDATE_SHARED_SCHEMAS"] = str(shared)
    return env


def child(root: Path, cache: Path, shared: Path, workers: int, families: str) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--measure",
            str(root),
            "--cache",
            str(cache),
            "--workers",
            str(workers),
            "--families",
            families,
        ],
        env=python_env(shared, cache.parent / "pycache"),
        capture_output=True,
        text=True,
        check=True,
    )
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def split(run: dict[str, Any]) -> str:
    s = run["stats"]
    schema = sum(s.get(k, 0.0) for k in SCHEMA_FAMILIES)
    parts = {
        "read": s.get("read", 0.0),
        "render": s.get("render", 0.0),
        "load": s.get("load", 0.0),
        "schema": schema,
        "policies": s.get("family:policies", 0.0),
    }
    parts["other"] = max(0.0, run["wall"] - sum(parts.values()))
    return " ".join(f"{k} {v:.2f}" for k, v in parts.items())


def render_floor(root: Path, roots: list[str], workers: int) -> float:
    """``kubectl kustomize`` alone over the same builds, ``workers`` at a time."""
    kubectl = str(Path(sys.executable).parent / "kubectl")
    if not Path(kubectl).exists():
        kubectl = "kubectl"

    def one(directory: str) -> None:
        subprocess.run([kubectl, "kustomize", directory], cwd=root, capture_output=True, check=True)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, roots))
    return time.perf_counter() - start


def rendered_texts(cache: Path) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted((cache / "kustomize").glob("*.yaml"))]


def validate_floor(texts: list[str], kubernetes: str, shared: Path) -> tuple[float, int]:
    """libyaml load + jsonschema validators compiled beforehand, on the rendered documents."""
    import yaml

    from tasks.validate.engine import fewer_collections
    from tasks.validate.schemas import SchemaStore

    store = SchemaStore(kubernetes, shared / "crds", {})
    docs = [d for t in texts for d in yaml.load_all(t, Loader=yaml.CSafeLoader)]
    validators: dict[tuple[str, str], Any] = {}
    for d in docs:
        if isinstance(d, dict):
            key = (str(d.get("apiVersion")), str(d.get("kind")))
            if key not in validators:
                try:
                    validators[key] = store.validator(*key)
                except Exception:  # no schema: the floor skips the document
                    validators[key] = None

    def once() -> int:
        count = 0
        for text in texts:
            for d in yaml.load_all(text, Loader=yaml.CSafeLoader):
                count += 1
                validator = validators.get((str(d.get("apiVersion")), str(d.get("kind"))))
                if validator is not None:
                    for _ in validator.iter_errors(d):
                        pass
        return count

    with fewer_collections():  # the same GC setting as the engine's runs
        once()  # jsonschema resolves $refs on first use: the floor is the compiled, warm pass
        start = time.perf_counter()
        count = once()
        return time.perf_counter() - start, count


def kubernetes_validate(cache: Path, kubernetes: str) -> tuple[float | None, str]:
    """kubernetes-validate's CLI on the rendered files (CRDs it has no schema for are warnings)."""
    exe = Path(sys.executable).parent / "kubernetes-validate"
    if not exe.exists():
        return None, f"not available ({exe} missing: pip install kubernetes-validate)"
    files = [str(p) for p in sorted((cache / "kustomize").glob("*.yaml"))]
    start = time.perf_counter()
    proc = subprocess.run(
        [str(exe), "--strict", "--no-warn", "--quiet", "-k", kubernetes, *files],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    return wall, f"exit {proc.returncode}"


#: The edits of the latency rows: a kustomization (re-render of one build) and a plain manifest.
EDITS = (
    ("deploy/services/user/kustomization.yaml", "newTag: v0.1.0", "newTag: v0.1.1"),
    ("deploy/infrastructure/argocd-route/httproute.yaml", "- argocd.lab", "- argo.lab"),
)


def precommit(shared: Path, tmp: Path) -> list[str]:
    """``inv validate`` (every family, as the pre-commit hook runs it) on a copy of this
    repository: cold, unchanged, and after editing one file."""
    repo = tmp / "repo"
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    for rel in tracked:
        if rel and not rel.startswith(("tests/", "benchmarks/")) and (ROOT / rel).is_file():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, repo / rel)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    environment = python_env(shared, tmp / "pycache")
    environment["INVOKE_VALIDATE_CACHE_DIR"] = str(tmp / "precommit-cache")
    inv = str(Path(sys.executable).parent / "inv")

    def timed(*args: str, env: dict[str, str] | None = None) -> str:
        start = time.perf_counter()
        proc = subprocess.run(
            [inv, *args],
            cwd=repo,
            env={**environment, **(env or {})},
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - start
        last = (proc.stdout.strip().splitlines() or ["(no output)"])[-1]
        return f"{wall:6.2f} s  exit {proc.returncode}: {last}"

    lines = [f"{'inv --list (startup alone)':<56}{timed('--list').split(':')[0]}"]
    lines.append(f"{'inv validate, cold cache':<56}{timed('validate')}")
    # A run stores its report only when no input changed in the 2 s before it (replay.py).
    time.sleep(2.1)
    lines.append(f"{'inv validate, unchanged tree (warm caches)':<56}{timed('validate')}")
    lines.append(f"{'inv validate, unchanged tree again (replayed)':<56}{timed('validate')}")
    lines.append(
        f"{'inv validate, unchanged, replay off (warm caches)':<56}"
        f"{timed('validate', env={'INVOKE_VALIDATE_REPLAY': '0'})}"
    )
    for rel, old, new in EDITS:
        path = repo / rel
        path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
        name = "/".join(Path(rel).parts[-2:])
        lines.append(f"{'inv validate, after editing ' + name:<56}{timed('validate')}")
        lines.append(f"{'inv validate -- ' + name:<56}{timed('validate', '--', rel)}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,100", help="tree sizes (copies of deploy/)")
    parser.add_argument("--families", default=DEFAULT_FAMILIES, help="families to run")
    parser.add_argument(
        "--workers", type=int, default=max(2, os.cpu_count() or 2), help="parallel renders"
    )
    parser.add_argument(
        "--identical", action="store_true", help="also time identical copies (render cache hits)"
    )
    parser.add_argument("--no-peers", action="store_true", help="skip the floors and peers")
    parser.add_argument(
        "--peers-up-to",
        type=int,
        default=10,
        help="largest size the floors and peers run at (at 100x they add about 3 minutes on "
        "2 CPUs: kubectl once per build, kubernetes-validate on every document)",
    )
    parser.add_argument(
        "--no-precommit", action="store_true", help="skip the pre-commit latency rows"
    )
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    shared = Path(os.environ.get("INVOKE_VALIDATE_SHARED_SCHEMAS", ROOT.parent / "shared/schemas"))
    if args.measure is not None:
        print(json.dumps(measure(args.measure, args.cache, shared, args.workers, args.families)))
        return
    print(
        f"validate engine: families {args.families}; {args.workers} parallel renders; "
        f"{os.cpu_count()} CPUs; schemas {shared}"
    )
    print(
        f"{'tree':<16} {'run':<5} {'docs':>6} {'probl':>5} {'wall s':>7} {'docs/s':>7} "
        f"{'RSS MB':>6}  split (s)"
    )
    peers: list[str] = []
    with tempfile.TemporaryDirectory(prefix="validate-bench-") as tmp:
        # A throwaway run compiles the byte-code, which a normal install has done already.
        build_tree(ROOT, Path(tmp) / "warmup", 1)
        child(Path(tmp) / "warmup", Path(tmp) / "warmup-cache", shared, 1, args.families)
        kinds = [("distinct", False)] + ([("identical", True)] if args.identical else [])
        for size in (int(s) for s in args.sizes.split(",")):
            for label, identical in kinds:
                if identical and size == 1:
                    continue
                root = Path(tmp) / f"{label}-x{size}"
                build_tree(ROOT, root, size, identical=identical)
                cache = Path(tmp) / f"cache-{label}-x{size}"
                name = f"{size}x {label}" if size > 1 else "1x (real tree)"
                cold: dict[str, Any] = {}
                for run in ("cold", "warm"):
                    r = child(root, cache, shared, args.workers, args.families)
                    cold = cold or r
                    print(
                        f"{name:<16} {run:<5} {r['docs']:>6} {r['problems']:>5} "
                        f"{r['wall']:>7.2f} {r['docs'] / r['wall']:>7.0f} {r['rss_mb']:>6.0f}  "
                        f"{split(r)}",
                        flush=True,
                    )
                    for line in r["first_problems"]:
                        print(f"    {line}")
                if identical or args.no_peers:
                    continue
                if size > args.peers_up_to:
                    peers.append(
                        f"{name}: floors and peers skipped (pass --peers-up-to {size} to run them)"
                    )
                    continue
                peers += compare(root, cache, shared, args.workers, name=name, cold=cold)
        if peers:
            print()
            print("floors and peers (same tree, same rendered documents; ratio = ours / floor)")
            for line in peers:
                print(line)
        if not args.no_precommit:
            print()
            print("pre-commit latency: inv validate, every family, on a copy of this repository")
            for line in precommit(shared, Path(tmp)):
                print(line, flush=True)


def compare(
    root: Path, cache: Path, shared: Path, workers: int, *, name: str, cold: dict[str, Any]
) -> list[str]:
    rendered = len(cold["roots"])
    floor = render_floor(root, cold["roots"], workers)
    ours_render = cold["stats"].get("render", 0.0)
    texts = rendered_texts(cache)
    vfloor, vdocs = validate_floor(texts, cold["kubernetes"], shared)
    s = cold["stats"]
    ours_check = s.get("load", 0.0) + sum(s.get(k, 0.0) for k in SCHEMA_FAMILIES)
    kv, why = kubernetes_validate(cache, cold["kubernetes"])
    lines = [
        f"{name}: kubectl kustomize alone, {rendered} builds: {floor:.2f} s; "
        f"our render phase (cache, and waiting on kubectl beyond the parsing it overlaps) "
        f"{ours_render:.2f} s (x{ours_render / floor:.2f})",
        f"{name}: libyaml + precompiled jsonschema, {vdocs} rendered docs: {vfloor:.2f} s "
        f"({vdocs / vfloor:.0f} docs/s); our load + schema families {ours_check:.2f} s "
        f"(x{ours_check / vfloor:.1f}, also checks sources, values, components, kustomizations)",
        f"{name}: whole cold run {cold['wall']:.2f} s vs render + validate floors "
        f"{floor + vfloor:.2f} s (x{cold['wall'] / (floor + vfloor):.2f})",
    ]
    if kv is None:
        lines.append(f"{name}: kubernetes-validate CLI: {why}")
    else:
        lines.append(
            f"{name}: kubernetes-validate CLI --strict, same {vdocs} docs: {kv:.2f} s "
            f"({vdocs / kv:.0f} docs/s, {why}; no CRD schemas) vs our whole cold run "
            f"x{cold['wall'] / kv:.2f}"
        )
    return lines


if __name__ == "__main__":
    main()
