# The gauntlet server image. Built by docker/build-images.sh, which streams a selected build context
# (package.json, tsconfig.json, bin/, src/, the runtime part of node_modules) and builds FROM a base image it
# made locally (node + the shared libraries of node and of the llama.cpp addon; no shell, no registry).
ARG BASE_IMAGE=gauntlet-node-base:latest
FROM ${BASE_IMAGE}
# Metadata first and the app last: the legacy builder commits one layer per instruction, so a change to src/
# then rebuilds only the final COPY.
LABEL gauntlet.image=server
# MALLOC_MMAP_THRESHOLD_: Node reads sockets into 64 KiB buffers; glibc keeps freed ones of that size in its
# heap, so after a burst (large uploads, many connections) RSS never falls again, and the memory guard, which
# reads RSS, would refuse every request (503) long after the memory was freed. From 64 KiB up, glibc maps
# and unmaps instead, and RSS follows what is really in use (tests/containers/memory-guard.test.ts).
ENV NODE_ENV=production \
    CACHE_DIR=/data \
    NODE_LLAMA_CPP_GPU=false \
    NODE_LLAMA_CPP_SKIP_DOWNLOAD=true \
    MALLOC_MMAP_THRESHOLD_=65536
VOLUME /data
EXPOSE 8080
WORKDIR /app
ENTRYPOINT ["/usr/bin/node", "bin/gauntlet.js", "serve", "--host", "0.0.0.0", "--port", "8080"]
COPY node_modules /app/node_modules
COPY package.json tsconfig.json /app/
COPY bin /app/bin
COPY src /app/src
