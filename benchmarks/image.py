"""The action image's size and build time, against the baseline image (main's Dockerfile), built in one run.

Both are built the way the container smoke test builds (buildah, chroot isolation, the local stand-in base
from scripts/local-base-image.sh, no layer cache: every step runs), one after the other so they do not
share the machine's cores, and both are removed afterwards (vfs storage keeps a full copy per layer).
The baseline is `git archive <ref>` — that revision's Dockerfile with that revision's tree as context.

- image_mb / baseline_image_mb: the image's size as podman reports it (uncompressed, base included), MB.
- build_s / baseline_build_s: wall time of `buildah bud`, including the downloads from PyPI.
- base_image_mb: the base both are built on (on Docker the official python slim image is used instead).

Usage: .venv/bin/python benchmarks/image.py [--baseline-ref main] [--min-free-gb 8]   (last line: name=value)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD_TIMEOUT_S = 1800
STORAGE = Path("/var/lib/containers/storage")  # vfs graphroot (scripts/local-base-image.sh)


def run(args: list[str], timeout: float = 600, cwd: Path = ROOT) -> str:
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout


def free_gb(path: Path) -> float:
    while not path.exists():
        path = path.parent
    return shutil.disk_usage(path).free / 1e9


def image_mb(tag: str) -> float:
    return int(run(["podman", "image", "inspect", "--format", "{{.Size}}", tag]).strip()) / 1e6


def build(context: Path, tag: str, base: str) -> float:
    started = time.monotonic()
    run(["buildah", "bud", "--isolation", "chroot", "--layers=false", "--build-arg", f"BASE_IMAGE={base}",
         "-t", tag, str(context)], timeout=BUILD_TIMEOUT_S, cwd=context)
    return time.monotonic() - started


def baseline_context(ref: str, dest: Path) -> Path:
    """The tree of `ref` (its Dockerfile and .dockerignore with it), unpacked into dest."""
    archive = dest / "baseline.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "archive", ref], cwd=ROOT, stdout=out, check=True, timeout=120)
    context = dest / "baseline"
    with tarfile.open(archive) as tar:
        tar.extractall(context, filter="data")
    return context


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline-ref", default="main")
    parser.add_argument("--min-free-gb", type=float, default=8.0)
    args = parser.parse_args(argv)
    for where in (STORAGE, ROOT):
        if free_gb(where) < args.min_free_gb:
            raise SystemExit(f"only {free_gb(where):.1f} GB free at {where}; two image builds need about "
                             f"{args.min_free_gb:g} GB (vfs storage): free some space or lower --min-free-gb")
    base = run(["bash", str(ROOT / "scripts" / "local-base-image.sh")], timeout=BUILD_TIMEOUT_S).split()[-1]
    tag = f"localhost/repo-automation:bench-{os.getpid()}"
    baseline_tag = f"localhost/repo-automation:bench-baseline-{os.getpid()}"
    try:
        with tempfile.TemporaryDirectory(prefix="image-bench-") as tmp:
            baseline_s = build(baseline_context(args.baseline_ref, Path(tmp)), baseline_tag, base)
        baseline_mb = image_mb(baseline_tag)
        print(f"baseline ({args.baseline_ref}): {baseline_mb:.0f} MB, built in {baseline_s:.0f}s", file=sys.stderr)
        build_s = build(ROOT, tag, base)
        size_mb = image_mb(tag)
        print(f"this tree: {size_mb:.0f} MB, built in {build_s:.0f}s", file=sys.stderr)
    finally:
        subprocess.run(["podman", "rmi", "-f", tag, baseline_tag], capture_output=True, timeout=600, check=False)
    print(f"image_mb={size_mb:.0f} build_s={build_s:.0f} baseline_image_mb={baseline_mb:.0f} "
          f"baseline_build_s={baseline_s:.0f} base_image_mb={image_mb(base):.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
