"""Throughput of ``inv validate``'s engine on synthetic trees of 1x, 10x and 100x deploy/.

Each copy of a component directory gets its own name (component.yaml ``name`` and the directory),
so the tree grows the way a real one would. Kustomize renders are cached by content, so identical
copies share a render; the first run of each size is "cold" (renders and compiles schemas), the
second "warm". Prints documents/second and wall time; asserts nothing.

    python benchmarks/validate.py [--sizes 1,10,100] [--families manifests,policies,...]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tasks.core.runner import Runner  # noqa: E402
from tasks.validate.engine import Workspace, run  # noqa: E402
from tasks.validate.settings import Settings  # noqa: E402

LAYERS = ("infrastructure", "platform", "observability", "services")
DEFAULT_FAMILIES = "cluster,manifests,values,talos,policies,secrets"


def build_tree(dest: Path, copies: int) -> None:
    shutil.copytree(ROOT / "deploy", dest / "deploy")
    for layer in LAYERS:
        base = dest / "deploy" / layer
        if not base.is_dir():
            continue
        originals = [d for d in sorted(base.iterdir()) if (d / "component.yaml").exists()]
        for n in range(1, copies):
            for original in originals:
                copy = base / f"{original.name}-x{n}"
                shutil.copytree(original, copy)
                component = copy / "component.yaml"
                component.write_text(
                    re.sub(r"(?m)^name: (\S+)", rf"name: \1-x{n}", component.read_text())
                )


def measure(root: Path, settings: Settings, families: list[str]) -> tuple[float, int, int]:
    start = time.perf_counter()
    ws = Workspace(None, root=root, settings=settings, runner=Runner())
    result = run(ws, families)
    return time.perf_counter() - start, result.documents, len(result.problems)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,100")
    parser.add_argument("--families", default=DEFAULT_FAMILIES)
    parser.add_argument("--workers", type=int, default=1, help="threads for renders (1 = one core)")
    args = parser.parse_args()
    shared = Path(os.environ.get("INVOKE_VALIDATE_SHARED_SCHEMAS", ROOT.parent / "shared/schemas"))
    families = args.families.split(",")
    print(f"families: {', '.join(families)}; schemas: {shared}; workers: {args.workers}")
    print(f"{'size':>5} {'run':>5} {'docs':>7} {'problems':>8} {'wall s':>8} {'docs/s':>8}")
    with tempfile.TemporaryDirectory(prefix="validate-bench-") as tmp:
        cache = Path(tmp) / "cache"
        for size in (int(s) for s in args.sizes.split(",")):
            root = Path(tmp) / f"x{size}"
            build_tree(root, size)
            settings = Settings(
                shared_schemas=shared,
                schema_dir=shared / "crds",
                talos_schema_dir=shared / "talos",
                cache_dir=cache,
                workers=args.workers,
            )
            for label in ("cold", "warm"):
                wall, docs, problems = measure(root, settings, families)
                rate = docs / wall
                print(f"{size:>4}x {label:>5} {docs:>7} {problems:>8} {wall:>8.2f} {rate:>8.0f}")


if __name__ == "__main__":
    main()
