# seealso's HTTP API and CLI on a CPU: `docker build -t seealso .`, then
# `docker run -p 8000:8000 -v seealso-data:/data -e SEEALSO_API_TOKEN=... seealso`.
# The image is built from this repository and package registries only: PyPI, and PyTorch's own
# index for torch, whose CPU wheels are there (PyPI's Linux torch is a multi-GB CUDA build).
# TORCH_INDEX_URL points at a mirror, or at PyPI where its torch is a CPU build.
FROM python:3.11.13-slim-bookworm

ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# Extras to install with seealso: `--build-arg EXTRAS=ray` for an image a Ray cluster's nodes run
# (`seealso embed --ray ...`); none by default.
ARG EXTRAS=

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SEEALSO_DATA_DIR=/data \
    SEEALSO_HOST=0.0.0.0 \
    SEEALSO_PORT=8000

# torch first, in a layer of its own: the largest download, and it changes least. torch's own
# dependencies (filelock, sympy, ...) come from PyPI when that index lacks them.
RUN pip install --no-cache-dir "torch==${TORCH_VERSION}" \
        --index-url "${TORCH_INDEX_URL}" --extra-index-url https://pypi.org/simple

# The whole build context (.dockerignore leaves out the venv, data dirs and caches): pyproject.toml
# maps the top-level folders (indexer/, ranking/, embeddings/, service/) into the `seealso`
# package, and seealso/'s links to them are copied as links. The wheel holds `seealso` alone.
COPY . /usr/src/seealso
RUN pip install --no-cache-dir "/usr/src/seealso${EXTRAS:+[${EXTRAS}]}" \
    && seealso --help > /dev/null

# A non-root user, numeric so that runAsNonRoot-style checks can verify it; it owns the data dir,
# and a named volume mounted there starts with that ownership.
RUN groupadd --system --gid 10001 seealso \
    && useradd --system --no-log-init --uid 10001 --gid seealso --create-home --home-dir /home/seealso seealso \
    && mkdir -p /data \
    && chown seealso:seealso /data
USER 10001:10001
WORKDIR /home/seealso

# The catalog, the index and the model built once from its package (<data dir>/models/).
VOLUME ["/data"]
EXPOSE 8000

# No curl in the slim image: Python's urllib. The first start on an empty volume builds and
# exports the model (under a minute, longer where it is quantized to int8): start-period covers it.
HEALTHCHECK --interval=30s --timeout=10s --start-period=300s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('SEEALSO_PORT', '8000'), timeout=5)"]

CMD ["seealso", "serve"]
