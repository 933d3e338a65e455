#!/usr/bin/env bash
# One quiet set-up step of the Makefile: `tools/step.sh LABEL COMMAND...` prints "LABEL ... ok (N s)" and
# keeps the command's output to itself; when the command fails it prints that output in full and exits
# with the command's code. `make V=1 ...` shows every step's output as it runs.
set -uo pipefail
label=$1
shift
start=$SECONDS
if [ "${V:-0}" != 0 ]; then
  echo "$label ..."
  "$@"
  rc=$?
  [ $rc = 0 ] && echo "$label ... ok ($((SECONDS - start)) s)" || echo "$label ... FAILED (exit $rc)"
  exit $rc
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
printf '%s ... ' "$label"
if "$@" >"$log" 2>&1; then
  echo "ok ($((SECONDS - start)) s)"
else
  rc=$?
  echo "FAILED (exit $rc) after $((SECONDS - start)) s; its output:"
  cat "$log"
  exit $rc
fi
