#!/usr/bin/env bash
# `npm test`: typecheck, the main tier, then the serial tier (soak verdicts that must run alone).
# The serial tier runs even when the main tier failed, so one run reports every failure; the exit code is
# the first non-zero one.
set -u
cd "$(dirname "$0")/.."
npm run --silent typecheck || exit 1
status=0
npx vitest run || status=$?
npx vitest run --config vitest.serial.config.ts || { s=$?; [ "$status" -eq 0 ] && status=$s; }
exit "$status"
