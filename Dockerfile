# syntax=docker/dockerfile:1
# kls-rec in a small image: a builder stage compiles the release binary from the locked
# dependencies; the runtime stage is Debian bookworm-slim with CA certificates (HTTPS to S3 and
# callback endpoints) and the binary, run as an unprivileged user.
#
#   docker build -t kls-rec .
#   docker run --rm -v "$PWD:/work" kls-rec record /work/push.flv -o /work/out
#
# Not built on the machines kls-rec is developed on (no container engine runs there); see the
# README, "Container image".

FROM rust:1.95-slim-bookworm AS builder
WORKDIR /src
# aws-lc-rs (the TLS provider) builds C code; the image has gcc, cmake helps its build script.
RUN apt-get update \
    && apt-get install -y --no-install-recommends cmake \
    && rm -rf /var/lib/apt/lists/*
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# Registry and target caches survive between builds (BuildKit); the binary is copied out of
# the cached target directory in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
    && install -D -m 0755 target/release/kls-rec /out/kls-rec

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/kls-rec kls-rec \
    && mkdir -p /work && chown kls-rec:kls-rec /work
COPY --from=builder /out/kls-rec /usr/local/bin/kls-rec
COPY man/*.1 /usr/local/share/man/man1/
USER kls-rec
WORKDIR /work
ENTRYPOINT ["kls-rec"]
CMD ["--help"]
