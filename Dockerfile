# The DMG registry service: `dmg serve` on the embedded SQLite store, its data in the /data volume.
#   docker build -t dmg-registry .
#   docker run -p 7420:7420 -v dmg-data:/data dmg-registry     # GraphQL at http://localhost:7420/graphql
# Settings: DMG_* environment variables (DMG_MAX_BODY_BYTES, DMG_SEED_SAMPLES=false, ...) or DMG_CONFIG=<toml>.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DMG_DATA_DIR=/data

RUN groupadd --system --gid 10001 dmg \
    && useradd --system --uid 10001 --gid dmg --home-dir /data --no-create-home --shell /usr/sbin/nologin dmg \
    && mkdir -p /data \
    && chown dmg:dmg /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY dmg ./dmg
RUN pip install . && rm -rf /app/build

USER dmg
VOLUME ["/data"]
EXPOSE 7420

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7420/healthz', timeout=4)"]

CMD ["dmg", "serve", "--host", "0.0.0.0", "--port", "7420"]
