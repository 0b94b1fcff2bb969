# The repo-automation GitHub Action (action.yml: `image: Dockerfile`) and CLI.
#
# The base is a build argument so machines without Docker Hub can supply a local stand-in
# (scripts/local-base-image.sh); everywhere else the pinned official slim Python below is used.
ARG BASE_IMAGE=python:3.11.14-slim-bookworm
FROM ${BASE_IMAGE}

LABEL org.opencontainers.image.title="repo-automation" \
      org.opencontainers.image.description="Measure, scan, gate, score and maintain a repository's health." \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# git: the local-history collector and the maintenance sinks shell out to it. Debian's security updates
# replace exact versions, so the package is not pinned (pinning would break rebuilds of this tag).
# The runner mounts the workspace owned by another uid: trust exactly that path.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/* \
    && git config --system --add safe.directory /github/workspace

WORKDIR /usr/src/repo-automation

# Dependencies first, read from pyproject.toml alone, so editing the code does not reinstall them.
# The postgres and redis extras are included: the organisation fan-out writes to a shared PostgreSQL
# history and may keep ETags in Redis.
COPY pyproject.toml ./
RUN python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
x = p.get("optional-dependencies", {}); \
print("\n".join(p["dependencies"] + x.get("postgres", []) + x.get("redis", [])))' > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the code, installed without touching the dependencies. The source is removed afterwards so that
# /app/entrypoint.py imports the installed package, whose bytecode pip compiled (a faster start).
COPY README.md ./
COPY repo_automation/ ./repo_automation/
WORKDIR /app
RUN pip install --no-cache-dir --no-deps /usr/src/repo-automation \
    && rm -rf /usr/src/repo-automation \
    && repo-automation --version
COPY entrypoint.py ./

# No USER: the runner requires the container to run as root (it owns the mounted workspace and files).
ENTRYPOINT ["python", "/app/entrypoint.py"]
