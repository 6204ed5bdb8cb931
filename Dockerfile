# Stardom Coach — a slim image with the `coach` command (docs/operations.md, "The image").
# Build: docker build -t stardom-coach .
# Run the terminal chat against PostgreSQL:
#   docker run -it -e DATABASE_URL=postgresql://user:pass@db:5432/coach stardom-coach chat
# Built and smoke-tested by scripts/image-smoke (CI: .ci/run).

# The base: the official python:3.11-slim-bookworm image, pinned by the digest of its multi-arch
# index (the tag is only for the reader; the digest decides). Bookworm, not plain 3.11-slim, which
# moved to Debian trixie: the smoke test's stand-in base is built from bookworm's packages.
# Where the digest came from: the development machines cannot reach a container registry, so it
# was not resolved here; it is the index digest public projects recorded for this tag while it was
# current (Python 3.11.17; "pinned 2026-10-06", "matches the current Docker Hub index"
# 2026-10-09), the newest found on 2026-12-07. A newer rebuild of the tag (Debian security
# updates) may exist: refresh it where a registry is reachable with one of
#   skopeo inspect --raw docker://docker.io/library/python:3.11-slim-bookworm | sha256sum
#   docker buildx imagetools inspect python:3.11-slim-bookworm     # "Digest:" line
# (scripts/lock prints them too), put the tag's Python version and the digest below, rebuild, and
# run scripts/image-smoke with COACH_IMAGE_BASE=pinned.
# scripts/image-smoke builds with --build-arg BASE=<a stand-in built from Debian's packages>.
ARG BASE=python:3.11.17-slim-bookworm@sha256:0a310eeecf4e1f5a0743f9a6520c90c88d089c903ca5fd283f501e3a805f5f89

# Build stage: every package into a virtualenv, at the versions constraints.txt pins (refresh:
# scripts/lock). Only the virtualenv goes on to the image: no wheel or pip cache in any layer.
FROM ${BASE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/coach
WORKDIR /src
# The dependencies first, from pyproject.toml alone: a code change rebuilds only the last layer.
COPY pyproject.toml constraints.txt ./
RUN python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"], sep="\n")' > requirements.txt \
    && /opt/coach/bin/pip install --constraint constraints.txt --requirement requirements.txt
COPY README.md ./
COPY core ./core
COPY bot ./bot
COPY roadmaps ./roadmaps
COPY migrations ./migrations
# The project itself (its dependencies are in), then pip and setuptools out of the runtime's venv
# (nothing installs at run time). pip compiled every module here: a non-root run writes no .pyc.
RUN /opt/coach/bin/pip install --no-deps . \
    && /opt/coach/bin/pip uninstall --yes pip setuptools

FROM ${BASE}
# A user of its own (never root), and the data folder: platformdirs puts the SQLite default
# (settings.default_database_url) and `coach chat`'s log in $XDG_DATA_HOME/stardom-coach, so
# with XDG_DATA_HOME=/data they land on the volume. The folder is the user's; Docker and Podman
# copy it, ownership included, into a new named volume (a bind mount must be writable by 10001).
RUN useradd --create-home --uid 10001 --user-group coach \
    && install -d -o coach -g coach -m 0750 /data /data/stardom-coach
COPY --from=build /opt/coach /opt/coach
ENV PATH=/opt/coach/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    XDG_DATA_HOME=/data \
    HEALTH_PORT=9100
VOLUME ["/data"]
USER coach
WORKDIR /home/coach
# Liveness: `coach run` answers /healthz on HEALTH_PORT (docs/operations.md, "Watching it"),
# on loopback by default (HEALTH_LISTEN): the check runs inside the container. No curl in the
# image: Python's urllib, which fails (exit 1) on no answer or an HTTP error. Only `coach run`
# serves it; a one-shot command (db upgrade, chat) needs no health check.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['HEALTH_PORT'] + '/healthz', timeout=3)"]
ENTRYPOINT ["coach"]
CMD ["--help"]
