# cbtrade daemon image, built by monitoring/docker-compose.yml (service "bot"), or by hand:
#   docker build -t cbtrade:local .        (or: podman build -t cbtrade:local .)
# Debian 12 like the development machines, so the packaged libraries (liburing, simdjson, wolfSSL,
# Boost) are the same versions the project is built and tested with. It is built through the
# scripts/setup.sh functions scripts/run.sh uses (the same packages, the same wolfSSL choice: the
# accelerated build made here from Debian's source by scripts/wolfssl-accelerated.sh, or Debian's
# libwolfssl where that cannot be made), so the image and README's commands cannot drift apart.
# tests/integration/container_image.sh builds it with podman and runs cbtrade in it.
FROM debian:12

WORKDIR /src
# Packages and the wolfSSL build first, from the two scripts alone: this layer stays cached while
# the sources change. ccache (meson uses it when installed) with a build cache mount: a rebuild
# after a source change recompiles only what changed, as on a development machine.
COPY scripts/setup.sh scripts/wolfssl-accelerated.sh /src/scripts/
RUN bash -c 'source scripts/setup.sh && cbtrade_prepare && cbtrade_install ccache' \
 && apt-get clean && rm -rf /var/lib/apt/lists/*

COPY . /src
# Portable code (-Dnative=false): the image may run on another CPU than the one that built it.
# The programs only (cbtrade, cbtrade-gen): no tests, benchmarks or simulator (test equipment) in the image.
RUN --mount=type=cache,target=/root/.cache/ccache,sharing=locked \
    bash -c 'source scripts/setup.sh && cbtrade_build_main build -Dnative=false -Dtests=false -Dbench=false' \
 && rm -f build.setup.log build.ninja.log

# Run unprivileged; /var/lib/cbtrade is where state (journal) lives, a volume in docker-compose.yml.
RUN useradd --system --home-dir /var/lib/cbtrade --create-home --shell /usr/sbin/nologin cbtrade
USER cbtrade

# PORT: /metrics, /healthz, /readyz (scraped by Prometheus as bot:8080).
ENV PORT=8080
EXPOSE 8080
ENTRYPOINT ["/src/build/cbtrade"]
CMD ["live", "--env-file", "/config/bot.env"]
