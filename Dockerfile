# syntax=docker/dockerfile:1
# Multi-stage build: cargo-leptos builds the server binary and the site (wasm, js, css);
# the runtime image holds only those, run by a non-root user.

FROM rust:1.95-bookworm AS toolchain
RUN rustup target add wasm32-unknown-unknown \
 && rustup component add rust-src \
 && cargo install cargo-leptos@0.3.10 --locked \
 && cargo install wasm-bindgen-cli --version 0.2.130 \
 && apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm zopfli \
 && rm -rf /var/lib/apt/lists/*

FROM toolchain AS build
WORKDIR /src
# wasm-opt (npm binaryen) is pinned by end2end's lockfile; install it before the sources so the
# layer is cached across code changes.
COPY end2end/package.json end2end/package-lock.json end2end/
RUN cd end2end && npm ci --no-audit --no-fund
ENV PATH="/src/end2end/node_modules/.bin:${PATH}" \
    LEPTOS_OUTPUT_NAME=assess
COPY . .
# The same size-tuned site build as `.ci/dev run` (see `build_front` there): lazy islands split
# into chunks, Brotli and gzip (zopfli) copies written, the standard library rebuilt for a small
# download.
RUN .ci/dev site

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin assess \
 && mkdir -p /app/data \
 && chown assess /app/data
WORKDIR /app
COPY --from=build /src/target/release/server /app/server
COPY --from=build /src/target/site /app/site
ENV APP_ENV=production \
    DATA_DIR=/app/data \
    LEPTOS_OUTPUT_NAME=assess \
    LEPTOS_SITE_ROOT=/app/site \
    LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_SITE_ADDR=0.0.0.0:8080 \
    LEPTOS_ENV=PROD \
    LOG_FORMAT=json
USER assess
EXPOSE 8080
VOLUME ["/app/data"]
CMD ["/app/server"]
