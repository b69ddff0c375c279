# The gauntlet server image. Built by docker/build-images.sh, which streams a selected build context
# (package.json, tsconfig.json, bin/, src/, the runtime part of node_modules) and builds FROM a base image it
# made locally (node + the shared libraries of node and of the llama.cpp addon; no shell, no registry).
ARG BASE_IMAGE=gauntlet-node-base:latest
FROM ${BASE_IMAGE}
# Metadata first and the app last: the legacy builder commits one layer per instruction, so a change to src/
# then rebuilds only the final COPY.
LABEL gauntlet.image=server
ENV NODE_ENV=production \
    CACHE_DIR=/data \
    NODE_LLAMA_CPP_GPU=false \
    NODE_LLAMA_CPP_SKIP_DOWNLOAD=true
VOLUME /data
EXPOSE 8080
WORKDIR /app
ENTRYPOINT ["/usr/bin/node", "bin/gauntlet.js", "serve", "--host", "0.0.0.0", "--port", "8080"]
COPY node_modules /app/node_modules
COPY package.json tsconfig.json /app/
COPY bin /app/bin
COPY src /app/src
