"""`release.next` over a 10,000-commit history: how long reading and parsing the history takes.

Builds the history with `git fast-import` (a second or two), laid out like apps/ with six
components; commits touch one or two components, every 50th is breaking, one component is
tagged halfway. Prints the figures; asserts nothing (DESIGN.md: benchmarks never time-assert).
Usage: python benchmarks/release.py [COMMITS]
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SERVICES = {
    "organization": "Organization",
    "company": "Company",
    "property": "Property",
    "user": "User",
    "landlord-bff": "Landlord.Bff",
}
TYPES = ["feat", "fix", "fix", "chore", "docs", "refactor", "perf", "test"]
RUNS = 5


def _data(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n" % len(raw) + raw + b"\n"


def scaffold_files() -> dict[str, str]:
    files = {
        "apps/Directory.Build.props": (
            "<Project><PropertyGroup><ContainerRegistry>ghcr.io</ContainerRegistry>"
            "<RepositoryUrl>https://github.com/propertea/propertea</RepositoryUrl>"
            "</PropertyGroup></Project>\n"
        ),
        "apps/portals/landlord/web/Dockerfile": "FROM scratch\n",
        "apps/portals/landlord/web/version.txt": "0.1.0\n",
    }
    for name, project in SERVICES.items():
        base = f"apps/services/ProperTea.{project}"
        files[f"{base}/ProperTea.{project}.csproj"] = (
            "<Project><PropertyGroup><Version>0.1.0</Version>"
            f"<ContainerRepository>propertea/propertea-{name}</ContainerRepository>"
            "</PropertyGroup></Project>\n"
        )
        files[f"{base}/version.txt"] = "0.1.0\n"
    return files


def build_history(root: Path, commits: int) -> None:
    from tasks.release.components import discover
    from tasks.release.settings import generate_config, generate_manifest

    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    files = scaffold_files()
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    components = discover(root)
    files["release-please-config.json"] = generate_config(components, None)
    files[".release-please-manifest.json"] = generate_manifest(components)
    paths = [c.path for c in components]

    rng = random.Random(7)
    stream = bytearray()
    stamp = 1_700_000_000
    for mark in range(1, commits + 1):
        stream += b"commit refs/heads/main\nmark :%d\n" % mark
        stream += b"committer Bench <bench@example.com> %d +0000\n" % (stamp + mark)
        if mark == 1:
            stream += _data("chore: scaffold apps")
            for rel, text in files.items():
                stream += f"M 100644 inline {rel}\n".encode() + _data(text)
            continue
        kind = rng.choice(TYPES)
        bang = "!" if mark % 50 == 0 else ""
        touched = rng.sample(paths, 2 if mark % 7 == 0 else 1)
        body = f"\n\nRefs: #{mark}" if mark % 11 == 0 else ""
        stream += _data(f"{kind}(area{mark % 13}){bang}: change number {mark}{body}")
        stream += b"from :%d\n" % (mark - 1)
        for path in touched:
            stream += f"M 100644 inline {path}/src/File{mark % 97}.cs\n".encode()
            stream += _data(f"// revision {mark}\n")
    stream += b"reset refs/tags/company-v0.2.0\nfrom :%d\n\n" % (commits // 2)
    subprocess.run(
        ["git", "-C", str(root), "fast-import", "--quiet"], input=bytes(stream), check=True
    )
    subprocess.run(["git", "-C", str(root), "reset", "-q", "--hard", "main"], check=True)


def main() -> None:
    from tasks.core.runner import Runner
    from tasks.release import compute_releases
    from tasks.release.changelog import Repo

    commits = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mono"
        start = time.perf_counter()
        build_history(root, commits)
        built = time.perf_counter() - start

        samples = []
        for _ in range(RUNS):
            start = time.perf_counter()
            releases = compute_releases(
                Runner(), root, None, repo=Repo("propertea", "propertea"), date="2026-01-15"
            )
            samples.append(time.perf_counter() - start)
        start = time.perf_counter()
        cli = subprocess.run(
            [sys.executable, "-m", "invoke", "--search-root", str(REPO), "release.next", "--json"],
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
        )
        end_to_end = time.perf_counter() - start

    summary = json.loads(cli.stdout)
    attributed = sum(r.commits for r in releases)
    print(f"history: {commits} commits, 6 components (built with git fast-import in {built:.2f}s)")
    print(
        f"release.next, all components, in-process: median {statistics.median(samples):.3f}s "
        f"over {RUNS} runs (min {min(samples):.3f}s, max {max(samples):.3f}s)"
    )
    print(f"`inv release.next --json` end to end (interpreter start included): {end_to_end:.3f}s")
    print(f"commits attributed across components: {attributed}")
    for name, data in sorted(summary.items()):
        print(f"  {name:13} {data['current']} -> {data['next']} ({data['commits']} commits)")


if __name__ == "__main__":
    main()
