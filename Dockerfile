# cbtrade daemon image, built by monitoring/docker-compose.yml (service "bot"), or by hand:
#   docker build -t cbtrade:local .
# Debian 12 like the development machines, so the packaged libraries (liburing, simdjson, wolfSSL,
# Boost) are the same versions the project is built and tested with.
FROM debian:12

ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      meson ninja-build g++ pkg-config python3 ca-certificates \
      liburing-dev libsimdjson-dev libwolfssl-dev libboost1.81-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . /src
# Portable code (-Dnative=false): the image may run on another CPU than the one that built it.
RUN meson setup build -Dbuildtype=release -Dtests=false -Dbench=false -Dnative=false \
 && ninja -C build

# Run unprivileged; /var/lib/cbtrade is where state (journal) lives, a volume in docker-compose.yml.
RUN useradd --system --home-dir /var/lib/cbtrade --create-home --shell /usr/sbin/nologin cbtrade
USER cbtrade

# PORT: /metrics, /healthz, /readyz (scraped by Prometheus as bot:8080).
ENV PORT=8080
EXPOSE 8080
ENTRYPOINT ["/src/build/cbtrade"]
CMD ["live", "--env-file", "/config/bot.env"]
