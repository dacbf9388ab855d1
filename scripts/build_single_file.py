#!/usr/bin/env python3
"""Build `dist/mediahub.pyz`: the whole server in one file, started with `python mediahub.pyz`.

shiv makes the zipapp. Its contents are the distributions installed in *this* environment
that mediahub needs at run time (its requirements, walked recursively with their extras;
binary wheels such as libtorrent and av with their bundled libraries), plus the mediahub
package from this checkout. Taking them from the environment instead of re-installing from
the registry makes the build offline, fast, and exactly the versions the tests ran. The
result runs on the same Python minor version and platform it was built on.

    python scripts/build_single_file.py            # -> dist/mediahub.pyz
    python dist/mediahub.pyz                       # serves on 127.0.0.1:8000
    python dist/mediahub.pyz serve --host 0.0.0.0 --port 8080
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from importlib.metadata import Distribution, PackageNotFoundError, distribution
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENTRY_POINT = "mediahub.cli:app_main"
INSTALL_HINT = f"{sys.executable} -m pip install -e '{ROOT}[test]'"


def missing_tools() -> list[str]:
    """What this build needs and this Python lacks, each with how to get it."""
    missing = []
    try:
        distribution("mediahub")
    except PackageNotFoundError:
        missing.append(f"mediahub is not installed in this Python: {INSTALL_HINT}")
    for module, why in [("shiv", "makes the .pyz"), ("packaging", "reads requirement markers")]:
        if importlib.util.find_spec(module) is None:
            missing.append(f"{module} ({why}) is not installed: {sys.executable} -m pip install {module}")
    return missing


def runtime_distributions(project: str = "mediahub") -> list[Distribution]:
    """The installed distributions `project` needs to run (no test extras), with theirs."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found: dict[str, Distribution] = {}
    todo: list[tuple[str, frozenset[str]]] = [(project, frozenset())]
    while todo:
        name, extras = todo.pop()
        dist = distribution(name)
        key = canonicalize_name(name)
        if key != canonicalize_name(project):
            found[key] = dist
        for raw in dist.requires or []:
            req = Requirement(raw)
            if req.marker and not any(req.marker.evaluate({"extra": e}) for e in {"", *extras}):
                continue
            try:
                distribution(req.name)
            except PackageNotFoundError:
                raise SystemExit(f"{req.name} (needed by {name}) is not installed here; pip install -e '.' first")
            if canonicalize_name(req.name) not in found or req.extras:
                todo.append((req.name, frozenset(req.extras)))
    return sorted(found.values(), key=lambda d: canonicalize_name(d.metadata["Name"]))


def stage(site: Path, dists: list[Distribution]) -> None:
    """Copy each distribution's recorded files (no scripts outside site-packages, no caches)."""
    for dist in dists:
        for file in dist.files or []:
            if file.parts[0] == ".." or "__pycache__" in file.parts:
                continue
            target = site / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file.locate(), target)
    shutil.copytree(ROOT / "mediahub", site / "mediahub", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def build(output: Path) -> Path:
    dists = runtime_distributions()
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp_output = output.with_name(f".{output.name}.tmp")
    with tempfile.TemporaryDirectory(prefix="mediahub-pyz-") as tmp:
        site = Path(tmp, "site-packages")
        stage(site, dists)
        subprocess.run(
            [
                sys.executable, "-m", "shiv",
                "--site-packages", str(site),
                "--entry-point", ENTRY_POINT,
                "--python", f"/usr/bin/env python{sys.version_info.major}.{sys.version_info.minor}",
                "--reproducible",
                "--output-file", str(tmp_output),
            ],
            check=True,
        )
    os.replace(tmp_output, output)  # never a half-written app under the real name
    print(f"{len(dists)} distributions: {', '.join(d.metadata['Name'] for d in dists)}")
    return output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "dist" / "mediahub.pyz")
    args = parser.parse_args()
    if missing := missing_tools():
        print("Cannot build the single-file app yet:", *(f"  - {line}" for line in missing), sep="\n", file=sys.stderr)
        return 2
    started = time.monotonic()
    output = build(args.output)
    print(f"built {output} ({output.stat().st_size / 1e6:.1f} MB) in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
