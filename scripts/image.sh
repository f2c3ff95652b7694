#!/usr/bin/env bash
# Builds the meshdns image (deploy/Dockerfile) with Debian's podman, as root.
# Where no registry can be reached (this project's machines), the debian:12
# and debian:12-slim bases are made first with debootstrap from Debian's
# mirror, the only place packages come from. Usage: scripts/image.sh [TAG]
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-localhost/meshdns:0.1.0}"
command -v podman >/dev/null && command -v debootstrap >/dev/null && command -v runc >/dev/null || {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends podman runc debootstrap netavark aardvark-dns >/dev/null
}
for base in debian:12 debian:12-slim; do
  podman image exists "docker.io/library/$base" && continue
  root="$(mktemp -d)"
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null
  # As Debian's own images: no downloaded packages, no package lists.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | podman import --quiet - "docker.io/library/$base" >/dev/null
  rm -rf "$root"
done
# runc, and limits given rather than inherited (within what a container
# sandbox allows: some refuse to raise nofile above 20000).
podman build --runtime runc --ulimit nofile=16384:16384 --ulimit nproc=8192:8192 \
  -f deploy/Dockerfile -t "$tag" .
