"""Build the action's image once per session, with the tools this machine has, and remove it afterwards.

Docker when an engine answers (with the Dockerfile's default, official base image); otherwise buildah with
a local stand-in base built by scripts/local-base-image.sh, which also installs buildah/podman with apt
when they are missing. The only skip: neither can be had at all (no engine, and no buildah after the
script tried). Image storage (vfs) is disk-hungry, so the image built here is always removed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASE_SCRIPT = ROOT / "scripts" / "local-base-image.sh"
BUILD_TIMEOUT_S = 900


@dataclass
class Image:
    """A built image and the engine that runs it (podman or docker)."""

    tag: str
    engine: str
    build_s: float
    timings: dict[str, float] = field(default_factory=dict)

    def run_args(self) -> list[str]:
        """`<engine> run` with the runner's own options: host network (the test's servers are on 127.0.0.1)."""
        args = [self.engine, "run", "--rm", "--network", "host"]
        if Path(self.engine).name == "podman":
            args.append("--http-proxy=false")  # do not hand this machine's proxy settings to the action
        return args


def _ran(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


def _docker_engine() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    try:
        ok = _ran([docker, "info", "--format", "{{.ServerVersion}}"], timeout=20).returncode == 0
    except subprocess.TimeoutExpired:
        return None
    return docker if ok else None


def _build_with_docker(docker: str, tag: str) -> subprocess.CompletedProcess[str]:
    return _ran([docker, "build", "-t", tag, str(ROOT)], timeout=BUILD_TIMEOUT_S)


def _build_with_buildah(tag: str) -> tuple[str, subprocess.CompletedProcess[str]]:
    base = _ran(["bash", str(BASE_SCRIPT)], timeout=BUILD_TIMEOUT_S)
    buildah, podman = shutil.which("buildah"), shutil.which("podman")
    if base.returncode != 0:
        if buildah is None:
            pytest.skip(f"no Docker engine, and buildah could not be installed: {base.stderr.strip()[-500:]}")
        pytest.fail(f"{BASE_SCRIPT.name} failed (exit {base.returncode}):\n{base.stderr[-3000:]}")
    assert buildah and podman, "local-base-image.sh succeeded but buildah/podman are not on PATH"
    base_tag = base.stdout.strip().splitlines()[-1]
    proc = _ran([buildah, "bud", "--isolation", "chroot", "--build-arg", f"BASE_IMAGE={base_tag}",
                 "-t", tag, str(ROOT)], timeout=BUILD_TIMEOUT_S)
    return podman, proc


@pytest.fixture(scope="session")
def action_image() -> Iterator[Image]:
    tag = f"localhost/repo-automation:smoke-{os.getpid()}"
    started = time.monotonic()
    docker = _docker_engine()
    if docker is not None:
        engine, proc = docker, _build_with_docker(docker, tag)
    else:
        engine, proc = _build_with_buildah(tag)
    build_s = time.monotonic() - started
    try:
        assert proc.returncode == 0, (f"image build failed (exit {proc.returncode}):\n{proc.stdout[-4000:]}\n"
                                      f"{proc.stderr[-4000:]}")
        image = Image(tag=tag, engine=engine, build_s=build_s)
        yield image
        print(f"\ncontainer timings: build {build_s:.1f}s, "
              + ", ".join(f"{k} {v:.1f}s" for k, v in image.timings.items()))
    finally:
        _ran([engine, "rmi", "-f", tag], timeout=300)
