"""Fabric and Fabric CA binaries, built from the pinned release modules and cached.

The pins live in topology.yaml. The cache folder's name is a hash of the pins, so a
second run reuses the binaries and a version change builds new ones beside them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .topology import PROJECT_ROOT, Topology

CACHE_ROOT = PROJECT_ROOT / ".cache" / "fabric"


class BuildError(RuntimeError):
    """The binaries could not be built; the message names the cause."""


@dataclass(frozen=True)
class Binaries:
    """Where the built commands and Fabric's stock configuration files are."""

    root: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def sampleconfig(self) -> Path:
        """Fabric's stock core.yaml and orderer.yaml from the same release module."""
        return self.root / "sampleconfig"

    def path(self, command: str) -> Path:
        return self.bin / command

    def version(self, command: str) -> str:
        out = subprocess.run([str(self.path(command)), "version"], capture_output=True, text=True, check=True)
        for line in out.stdout.splitlines():
            if line.strip().startswith("Version:"):
                return line.split(":", 1)[1].strip()
        return "unknown"


def cache_dir(topology: Topology) -> Path:
    pins = json.dumps(topology.binaries, sort_keys=True).encode()
    return CACHE_ROOT / hashlib.sha256(pins).hexdigest()[:16]


def locate(topology: Topology) -> Binaries:
    """The cached binaries for these pins (built or not)."""
    return Binaries(cache_dir(topology))


def is_built(topology: Topology) -> bool:
    b = locate(topology)
    commands = [c for spec in topology.binaries.values() for c in spec["commands"]]
    return (b.root / "complete").exists() and all(b.path(c).exists() for c in commands)


def ensure(topology: Topology, report: Callable[[str], None] = lambda _: None) -> Binaries:
    """Build every pinned command unless the cache already has them; return where they are."""
    binaries = locate(topology)
    if is_built(topology):
        return binaries
    go = shutil.which("go")
    if go is None:
        raise BuildError(
            "the Go toolchain is not on PATH: install Go 1.26 or newer (https://go.dev/dl) "
            "and run the command again"
        )
    staging = binaries.root.with_name(binaries.root.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "bin").mkdir(parents=True)
    for name, spec in topology.binaries.items():
        report(f"downloading {spec['module']} {spec['release']}")
        source = _download(go, spec["module"], spec["version"])
        report(f"compiling {', '.join(spec['commands'])} ({spec['release']}); a cold build takes a few minutes")
        _build(go, source, spec, staging / "bin")
        if name == "fabric":
            shutil.copytree(source / "sampleconfig", staging / "sampleconfig")
            for f in (staging / "sampleconfig").rglob("*"):
                f.chmod(0o755 if f.is_dir() else 0o644)
    (staging / "complete").write_text(json.dumps(topology.binaries, indent=2, sort_keys=True))
    shutil.rmtree(binaries.root, ignore_errors=True)
    staging.rename(binaries.root)
    return binaries


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    env["GOFLAGS"] = "-mod=mod -trimpath -buildvcs=false"
    env.setdefault("CGO_ENABLED", "1")  # fabric-ca-server uses SQLite through cgo
    return env


def _download(go: str, module: str, version: str) -> Path:
    # `go install module/cmd@version` would be the one-liner, but it asks the proxy for
    # the module's version list (to report deprecations) and the proxy refuses that list
    # for Fabric. Downloading the exact version and building inside it is equivalent.
    proc = subprocess.run(
        [go, "mod", "download", "-json", f"{module}@{version}"], capture_output=True, text=True, env=_go_env()
    )
    try:
        info = json.loads(proc.stdout)
    except json.JSONDecodeError:
        info = {}
    if proc.returncode != 0 or "Dir" not in info:
        reason = info.get("Error") or proc.stderr.strip() or f"exit status {proc.returncode}"
        raise BuildError(f"could not download {module}@{version} through the Go module proxy: {reason}")
    return Path(info["Dir"])


def _build(go: str, source: Path, spec: dict, out: Path) -> None:
    release = spec["release"]
    pkg = f"{spec['module']}/{spec['metadata_package']}"
    ldflags = f"-X {pkg}.Version={release}"
    if spec["module"].endswith("/fabric"):
        ldflags += f" -X {pkg}.CommitSHA={spec['version'].rsplit('-', 1)[-1]}"
    targets = [f"./cmd/{c}" for c in spec["commands"]]
    proc = subprocess.run(
        [go, "build", "-ldflags", ldflags, "-o", str(out) + "/", *targets],
        cwd=source,
        capture_output=True,
        text=True,
        env=_go_env(),
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise BuildError(f"building {spec['module']} {release} failed:\n{tail}")
