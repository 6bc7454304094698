#!/usr/bin/env python3
"""One scenario-driven fake for the CLIs that cannot run here.

talosctl, helm, argocd, dotnet, cilium, hubble, az and cluster-bound kubectl are links to this
script; it learns which tool it is from its name (or from ``--as TOOL`` as the first argument).
For az, scenarios answer ``show``/``list`` with recorded JSON and not-found as exit code 3.

Environment:
  FAKE_TOOLS_SCENARIO  JSON scenario file (below); absent means "exit 0, print nothing"
  FAKE_TOOLS_LOG       JSONL file: one record per call {tool, argv, cwd, env, stdin, rule}
  FAKE_TOOLS_STATE     directory for per-rule call counters (fail the first N times)

Scenario::

  {
    "record_env": ["KUBECONFIG", "TALOSCONFIG"],
    "rules": [
      {
        "tool": "talosctl",               # optional; default: any tool
        "match": ["bootstrap"],           # tokens that must appear in argv, in order;
                                          # "re:<regex>" matches a token by regex
        "stdout": "...", "stderr": "...", "exit": 0,
        "fail_times": 2,                  # the first N matching calls fail instead:
        "fail_exit": 1, "fail_stdout": "", "fail_stderr": "connection refused",
        "sleep": 0.0,                     # seconds before answering (hang: a large value)
        "writes": {"{flag:--output}/talosconfig": "content"},   # files the real tool writes
        "stdout_file": "path"             # answer with a file's content instead of "stdout"
      }
    ],
    "default": {"exit": 0}
  }

Path templates in "writes": ``{flag:-o}`` is the value after ``-o`` (or ``-o=value``),
``{pos:N}`` the N-th positional argument (0-based, flags and their values skipped is NOT attempted:
it is simply argv[N]), ``{cwd}`` the working directory, ``{env:NAME}`` an environment variable.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any


def _load_scenario() -> dict[str, Any]:
    path = os.environ.get("FAKE_TOOLS_SCENARIO")
    if not path:
        return {}
    return json.loads(Path(path).read_text())


def _matches(rule: dict[str, Any], tool: str, argv: list[str]) -> bool:
    if rule.get("tool") not in (None, tool):
        return False
    position = 0
    for token in rule.get("match", []):
        while position < len(argv):
            arg = argv[position]
            position += 1
            if token.startswith("re:"):
                if re.search(token[3:], arg):
                    break
            elif arg == token:
                break
        else:
            return False
    return True


def _flag_value(argv: list[str], flag: str) -> str:
    for i, arg in enumerate(argv):
        if arg == flag and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    raise SystemExit(f"fake: scenario wants {flag} but argv has none: {argv}")


def _expand(template: str, argv: list[str]) -> str:
    def repl(match: re.Match[str]) -> str:
        kind, _, arg = match.group(1).partition(":")
        if kind == "flag":
            return _flag_value(argv, arg)
        if kind == "pos":
            return argv[int(arg)]
        if kind == "cwd":
            return str(Path.cwd())
        if kind == "env":
            return os.environ.get(arg, "")
        raise SystemExit(f"fake: unknown template {{{match.group(1)}}}")

    return re.sub(r"\{([a-z]+(?::[^}]*)?)\}", repl, template)


def _count(rule_index: int) -> int:
    """How many times this rule matched before (persisted across processes)."""
    state = os.environ.get("FAKE_TOOLS_STATE")
    if not state:
        return 0
    import fcntl

    counter = Path(state) / f"rule-{rule_index}.count"
    counter.parent.mkdir(parents=True, exist_ok=True)
    # Parallel callers (nodes applied at once) share the counter: read-modify-write under a lock.
    with counter.open("a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        text = fh.read().strip()
        seen = int(text) if text else 0
        fh.seek(0)
        fh.truncate()
        fh.write(str(seen + 1))
    return seen


def _read_stdin() -> str:
    """What the caller piped in; never blocks on a terminal or on a pipe nobody writes to."""
    import select
    import stat

    if sys.stdin is None or sys.stdin.closed or sys.stdin.isatty():
        return ""
    mode = os.fstat(sys.stdin.fileno()).st_mode
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        ready, _, _ = select.select([sys.stdin], [], [], 5.0)
        if not ready:
            return ""
    return sys.stdin.read()


def main(args: list[str]) -> int:
    if args and args[0] == "--as":
        tool, argv = args[1], args[2:]
    else:
        tool, argv = Path(sys.argv[0]).name, args
    scenario = _load_scenario()
    stdin = _read_stdin()

    index, rule = None, scenario.get("default", {})
    for i, candidate in enumerate(scenario.get("rules", [])):
        if _matches(candidate, tool, argv):
            index, rule = i, candidate
            break

    log = os.environ.get("FAKE_TOOLS_LOG")
    if log:
        record = {
            "tool": tool,
            "argv": argv,
            "cwd": str(Path.cwd()),
            "env": {k: os.environ[k] for k in scenario.get("record_env", []) if k in os.environ},
            "stdin": stdin,
            "rule": index,
        }
        with Path(log).open("a") as fh:
            fh.write(json.dumps(record) + "\n")

    if rule.get("sleep"):
        time.sleep(float(rule["sleep"]))

    if index is not None and _count(index) < int(rule.get("fail_times", 0)):
        sys.stdout.write(rule.get("fail_stdout", ""))
        sys.stderr.write(rule.get("fail_stderr", f"{tool}: injected failure\n"))
        return int(rule.get("fail_exit", 1))

    for template, content in rule.get("writes", {}).items():
        target = Path(_expand(template, argv))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)

    if "stdout_file" in rule:
        sys.stdout.write(Path(_expand(rule["stdout_file"], argv)).read_text())
    else:
        sys.stdout.write(rule.get("stdout", ""))
    sys.stderr.write(rule.get("stderr", ""))
    return int(rule.get("exit", 0))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
