# syntax=docker/dockerfile:1
#
# One small image with both binaries, shadow and synth, in /usr/local/bin.
# There is no ENTRYPOINT: the Kubernetes manifests in deploy/ (or
# `docker run IMAGE shadow run ...`) pick the binary.
#
#   docker build -t ghcr.io/understudy-dev/understudy:dev .
#   docker buildx build --platform linux/amd64,linux/arm64 -t ... .
#
# deploy/manifests_test.go checks this file: the Go version matches go.mod,
# the packages built exist, the binaries land where the manifests run them,
# and .dockerignore keeps every file the build needs.

# The build stage runs on the builder's own platform and cross-compiles
# (pure Go, no cgo), so multi-platform builds need no emulation.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
WORKDIR /src

# Modules first, so that editing the source does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY . .
ARG TARGETOS=linux
ARG TARGETARCH=amd64
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w" -o /out/ ./cmd/shadow ./cmd/synth

# distroless/static: no shell, no package manager; CA certificates, time
# zone data and /etc/passwd with the nonroot user (uid/gid 65532).
FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/shadow /out/synth /usr/local/bin/
USER 65532:65532
