# roster: multi-stage build of rosterd.
#
# Both bases are pinned by digest and can be overridden, e.g. with the local
# debootstrap base on machines that reach no image registry:
#   podman build --format docker \
#     --build-arg BUILD_BASE=localhost/debian:bookworm-slim \
#     --build-arg RUNTIME_BASE=localhost/debian:bookworm-slim -t roster .
# (--format docker keeps the HEALTHCHECK; the OCI format drops it.)
# scripts/container-test.sh builds and checks the image this way.

ARG BUILD_BASE=docker.io/library/debian:bookworm-slim@sha256:3783cc01769c7b2b1b83a5c5ad96c815348e28ed7da68e2e3687004faa906251
ARG RUNTIME_BASE=docker.io/library/debian:bookworm-slim@sha256:3783cc01769c7b2b1b83a5c5ad96c815348e28ed7da68e2e3687004faa906251

# ---------------------------------------------------------------- build stage
FROM ${BUILD_BASE} AS build

ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential meson ninja-build pkg-config \
      libmicrohttpd-dev libjansson-dev libyaml-dev libmd4c-dev zlib1g-dev \
      nettle-dev check \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .

# Unit tests run here so a broken build never becomes an image; the black-box
# suites run in CI against the built binary (they need Python and a port).
# .git is not in the build context, so the revision comes in as a build
# argument (used when the project defines a meson option "revision").
ARG REVISION=unknown
ENV CK_DEFAULT_TIMEOUT=20 \
    UBSAN_OPTIONS=halt_on_error=1
RUN set -e; \
    rev_opt=; \
    if grep -qs "option('revision'" meson_options.txt meson.options; then rev_opt="-Drevision=${REVISION}"; fi; \
    meson setup /build --buildtype=release -Dtests=true $rev_opt \
 && meson compile -C /build \
 && meson test -C /build --suite unit --print-errorlogs \
 && install -D -m 0755 -s /build/service/rosterd /out/rosterd

# -------------------------------------------------------------- runtime stage
FROM ${RUNTIME_BASE} AS runtime

ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG SOURCE_URL=unknown

LABEL org.opencontainers.image.title="roster" \
      org.opencontainers.image.description="rosterd: serves agent role profiles over HTTP" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="debian:bookworm-slim"

# Only the shared libraries rosterd links against; no shell tools are added.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libmicrohttpd12 libjansson4 libyaml-0-2 libmd4c0 libnettle8 zlib1g \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log /var/cache/debconf/*-old

COPY --from=build /out/rosterd /usr/local/bin/rosterd
# Root-owned and world-readable: uid 10001 can read the profiles, not change them.
COPY profiles/ /srv/roster/profiles/

# The service writes nothing: the image runs with a read-only root filesystem.
ENV ROSTER_LISTEN=0.0.0.0:8080 \
    ROSTER_PROFILES=/srv/roster/profiles

USER 10001:10001
WORKDIR /srv/roster
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/rosterd", "healthcheck"]

ENTRYPOINT ["/usr/local/bin/rosterd"]
CMD ["serve"]
