#!/usr/bin/env bash
# A Docker engine for the container tests (npm run test:containers).
#
#   bash scripts/docker-engine.sh start   # install docker.io if dockerd is missing, start dockerd in the
#                                         # background unless an engine already answers, wait for `docker info`
#   bash scripts/docker-engine.sh stop    # stop the dockerd this script started (by its recorded pid)
#   bash scripts/docker-engine.sh status  # exit 0 when an engine answers
#
# `start` prints the daemon's pid (or "already running"); the pid and the log go to $DOCKER_ENGINE_STATE
# (default /tmp/gauntlet-dockerd). An engine that was already running is never stopped by `stop`.
set -euo pipefail

state_dir=${DOCKER_ENGINE_STATE:-/tmp/gauntlet-dockerd}
pid_file="$state_dir/dockerd.pid"
log_file="$state_dir/dockerd.log"
wait_s=${DOCKER_ENGINE_WAIT_S:-60}

log() { printf 'docker-engine: %s\n' "$*" >&2; }
answers() { docker info >/dev/null 2>&1; }

install_engine() {
  command -v dockerd >/dev/null && command -v docker >/dev/null && return 0
  [ "$(id -u)" = 0 ] || { log "dockerd is missing and installing it needs root"; exit 1; }
  log "installing docker.io (Debian's engine)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Keep package scripts from starting services; this script starts dockerd itself.
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
  fi
  apt-get install -y -qq --no-install-recommends docker.io >/dev/null
  [ "$created_policy" = 1 ] && rm -f "$policy"
  command -v dockerd >/dev/null || { log "dockerd is still missing after installing docker.io"; exit 1; }
}

start() {
  local t0=$SECONDS
  if answers; then
    echo "already running"
    return 0
  fi
  install_engine
  mkdir -p "$state_dir"
  if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    log "dockerd $(cat "$pid_file") is starting; waiting for it"
  else
    local driver=${DOCKER_STORAGE_DRIVER:-overlay2}
    nohup dockerd --storage-driver "$driver" >"$log_file" 2>&1 &
    echo $! >"$pid_file"
  fi
  local pid deadline=$((SECONDS + wait_s))
  pid=$(cat "$pid_file")
  until answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "dockerd exited during start-up; last lines of $log_file:"
      tail -n 20 "$log_file" >&2 || true
      rm -f "$pid_file"
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      log "no answer from dockerd $pid after ${wait_s}s; see $log_file"
      exit 1
    fi
    sleep 0.2
  done
  log "engine answers after $((SECONDS - t0))s (log: $log_file)"
  echo "$pid"
}

stop() {
  if [ ! -f "$pid_file" ]; then
    log "no dockerd started by this script"
    return 0
  fi
  local pid
  pid=$(cat "$pid_file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "dockerd $pid still running after 10s; sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pid_file"
  log "stopped dockerd $pid"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) answers ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
