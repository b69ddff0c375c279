#!/usr/bin/env bash
# Builds the gauntlet server image without any image registry.
#
#   bash docker/build-images.sh [image]        # default image: $GAUNTLET_SERVER_IMAGE or gauntlet-server:test
#
# 1. Base image gauntlet-node-base:<node version>-<hash>: this machine's node binary plus the shared libraries
#    that `ldd` lists for it and for the llama.cpp addon of @node-llama-cpp/linux-x64, a minimal /etc/passwd
#    and a world-writable /tmp, loaded with `docker import`. It has no shell. Made once per node binary.
# 2. The server image, `docker build` FROM the base with docker/server.Dockerfile. The build context is a tar
#    streamed from the repository holding only package.json, tsconfig.json, bin/, src/ and the production part
#    of node_modules (`npm ls --omit=dev`) minus the CUDA/Vulkan/arm/mac/win engine packages and the llama.cpp
#    sources node-llama-cpp ships for building from source.
# The last line on stdout is a JSON summary with the timings.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

image=${1:-${GAUNTLET_SERVER_IMAGE:-gauntlet-server:test}}
addon_dir=node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
log() { printf 'build-images: %s\n' "$*" >&2; }
now_ms() { date +%s%3N; }

command -v docker >/dev/null || { log "docker CLI not found"; exit 1; }
docker info >/dev/null 2>&1 || { log "no Docker engine answers (bash scripts/docker-engine.sh start)"; exit 1; }
[ -d "$addon_dir" ] || { log "$addon_dir is missing: run npm ci first"; exit 1; }

t0=$(now_ms)
node_bin=$(readlink -f "$(command -v node)")
node_version=$("$node_bin" -p process.version)

# Absolute paths of the system libraries the binaries need (libraries inside the project are copied with it).
system_libs() {
  {
    ldd "$node_bin"
    for f in "$addon_dir"/*.node "$addon_dir"/*.so; do LD_LIBRARY_PATH="$addon_dir" ldd "$f"; done
  } | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | grep -v "^$root/" | sort -u
}
libs=$(system_libs)
base_hash=$( { echo "$node_bin"; for f in "$node_bin" $libs; do stat -L -c '%n %s %Y' "$f"; done; } | sha256sum | cut -c1-12)
base="gauntlet-node-base:${node_version#v}-$base_hash"

base_ms=0
if docker image inspect "$base" >/dev/null 2>&1; then
  log "base image $base exists"
else
  t_base=$(now_ms)
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' EXIT
  install -D -m 0755 "$node_bin" "$stage/usr/bin/node"
  for lib in $libs; do install -D -m 0755 "$(readlink -f "$lib")" "$stage$lib"; done
  mkdir -p "$stage/etc" "$stage/root" "$stage/data" "$stage/tmp"
  chmod 1777 "$stage/tmp"
  printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$stage/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"
  tar -C "$stage" -c . | docker import -c 'ENTRYPOINT ["/usr/bin/node"]' - "$base" >/dev/null
  rm -rf "$stage"
  trap - EXIT
  base_ms=$(($(now_ms) - t_base))
  log "base image $base made in ${base_ms} ms"
fi

# The build context: a file list, then excludes for what node-llama-cpp never loads at run time.
t_app=$(now_ms)
list=$(mktemp)
trap 'rm -f "$list"' EXIT
{
  printf '%s\n' package.json tsconfig.json bin src docker/server.Dockerfile
  # npm ls exits non-zero on extraneous packages but still lists; nested paths come with their parents.
  { npm ls --omit=dev --all --parseable 2>/dev/null || true; } |
    sed -n "s#^$root/##p" | grep '^node_modules/' | grep -v '^node_modules/.*/node_modules/' | sort -u
} >"$list"
grep -qx 'node_modules/node-llama-cpp' "$list" || { log "npm ls did not list node-llama-cpp: is node_modules installed?"; exit 1; }

tar -c \
  --exclude='node_modules/@node-llama-cpp/linux-x64-*' \
  --exclude='node_modules/@node-llama-cpp/linux-arm*' \
  --exclude='node_modules/@node-llama-cpp/mac-*' \
  --exclude='node_modules/@node-llama-cpp/win-*' \
  --exclude='node_modules/node-llama-cpp/llama/llama.cpp' \
  --exclude='node_modules/node-llama-cpp/llama/gitRelease.bundle' \
  --exclude='node_modules/node-llama-cpp/llama/localBuilds' \
  --exclude='node_modules/.cache' \
  -T "$list" |
  docker build -q -f docker/server.Dockerfile --build-arg "BASE_IMAGE=$base" -t "$image" - >/dev/null
app_ms=$(($(now_ms) - t_app))
# Earlier builds of the tag are now untagged: drop them (only dangling images carrying our label).
docker image prune -f --filter label=gauntlet.image=server >/dev/null
size=$(docker image inspect -f '{{.Size}}' "$image")
total_ms=$(($(now_ms) - t0))
log "server image $image built in ${app_ms} ms ($((size / 1048576)) MiB); total ${total_ms} ms"
printf '{"image":"%s","base":"%s","baseMs":%d,"appMs":%d,"totalMs":%d,"sizeBytes":%d}\n' \
  "$image" "$base" "$base_ms" "$app_ms" "$total_ms" "$size"
