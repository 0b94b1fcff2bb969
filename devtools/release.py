"""What .github/workflows/release.yml runs to cut a release (standard library only: the workflow runs it
with the runner's python3, before anything is installed).

  python -m devtools.release check-tag TAG          # TAG is v<version> of repo_automation.__version__
  python -m devtools.release notes TAG [CHANGELOG]  # print the tag's section of CHANGELOG.md
  python -m devtools.release pin-image REF [ACTION] # action.yml's runs.image -> docker://REF (name@sha256:…)

Each prints what is wrong and exits 2 when its input does not fit, so a release stops before anything is
published rather than publishing a wrong version, empty notes or an action that still builds its image.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A final release, or a pre-release in the form both semver (the image tag) and PEP 440 read: v1.2.3-rc.1.
TAG = re.compile(r"v(?P<version>\d+\.\d+\.\d+(?:-(?:a|b|rc)\.\d+)?)")
IMAGE_REF = re.compile(r"[a-z0-9][a-z0-9._/-]*(?::\d+)?/[a-z0-9._/-]+@sha256:[0-9a-f]{64}")
BUILD_LINE = "  image: Dockerfile\n"  # what main's action.yml says: `@main` builds the Dockerfile


class ReleaseError(Exception):
    """An input the release cannot go on with; the message says what to fix."""


def version_of(tag: str) -> str:
    match = TAG.fullmatch(tag)
    if match is None:
        raise ReleaseError(f"{tag!r} is not a version tag (v1.2.3, or v1.2.3-rc.1 for a pre-release)")
    return match["version"]


def check_tag(tag: str, init: Path = ROOT / "repo_automation" / "__init__.py") -> str:
    """The version the tag names, when it is the package's own `__version__`."""
    version = version_of(tag)
    found = re.search(r'^__version__ = "([^"]+)"$', init.read_text(encoding="utf-8"), flags=re.M)
    if found is None or found[1] != version:
        raise ReleaseError(f"tag {tag} does not match __version__ = {found[1] if found else '?'!r} in {init.name}: "
                           "bump the version in the commit you tag")
    return version


def notes(tag: str, changelog: Path) -> str:
    """The body of the changelog's `## <version>` section (`## [1.2.3] - date`, `## v1.2.3` and `## 1.2.3`)."""
    version = version_of(tag)
    try:
        text = changelog.read_text(encoding="utf-8")
    except OSError as e:
        raise ReleaseError(f"cannot read {changelog}: {e.strerror or e}") from None
    heading = re.compile(rf"^## \[?v?{re.escape(version)}\]?(?:\s|$)")
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if heading.match(line)), None)
    if start is None:
        raise ReleaseError(f"{changelog.name} has no '## {version}' section: move the Unreleased entries under it")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    body = "\n".join(lines[start + 1:end]).strip()
    if not body:
        raise ReleaseError(f"the '## {version}' section of {changelog.name} is empty")
    return body + "\n"


def pin_image(ref: str, action: Path) -> None:
    """Rewrite runs.image from the Dockerfile to the published image, by digest, in place."""
    if IMAGE_REF.fullmatch(ref) is None:
        raise ReleaseError(f"{ref!r} is not an image named by digest (ghcr.io/owner/name@sha256:<64 hex>)")
    text = action.read_text(encoding="utf-8")
    if text.count(BUILD_LINE) != 1 or not text.rstrip("\n").endswith(BUILD_LINE.rstrip("\n")):
        raise ReleaseError(f"{action.name} does not end with runs.image: Dockerfile; nothing was changed")
    action.write_text(text.replace(BUILD_LINE, f'  image: "docker://{ref}"\n'), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.release", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    sub.add_parser("check-tag").add_argument("tag")
    p = sub.add_parser("notes")
    p.add_argument("tag")
    p.add_argument("changelog", nargs="?", type=Path, default=ROOT / "CHANGELOG.md")
    p = sub.add_parser("pin-image")
    p.add_argument("ref")
    p.add_argument("action", nargs="?", type=Path, default=ROOT / "action.yml")
    args = parser.parse_args(argv)
    try:
        if args.step == "check-tag":
            print(check_tag(args.tag))
        elif args.step == "notes":
            sys.stdout.write(notes(args.tag, args.changelog))
        else:
            pin_image(args.ref, args.action)
    except ReleaseError as e:
        print(f"release: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
