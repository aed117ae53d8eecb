#!/usr/bin/env python3
"""Say whether requirements/*.lock still match pyproject.toml (stdlib only; `make` runs it).

Every exact pin of pyproject.toml must be in the locks: runtime `dependencies` in
requirements/runtime.lock and requirements/dev.lock, the `dev` extra in requirements/dev.lock.
A stale lock (someone added a pin to pyproject.toml) stops with the one command that fixes it.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;\\]+)")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        match = PIN.match(line)
        if match:
            found[normalise(match.group(1))] = match.group(2)
    return found


def main() -> int:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {
        "requirements/runtime.lock": pins(project["dependencies"]),
        "requirements/dev.lock": pins(project["dependencies"] + project["optional-dependencies"]["dev"]),
    }
    problems = []
    for lock, required in wanted.items():
        path = ROOT / lock
        if not path.exists():
            problems.append(f"{lock} is missing")
            continue
        locked = pins(path.read_text().splitlines())
        for name, version in sorted(required.items()):
            if locked.get(name) != version:
                problems.append(
                    f"{lock}: {name}=={version} in pyproject.toml, {locked.get(name, 'absent')} locked"
                )
    if (ROOT / "requirements.lock").exists():
        problems.append("requirements.lock is no longer used (requirements/runtime.lock and dev.lock are)")
    if problems:
        print("The dependency locks are out of date:", *problems, sep="\n  ", file=sys.stderr)
        print(
            "Run `make lock` (re-locks from pyproject.toml, with hashes) and commit requirements/.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
