#!/usr/bin/env bash
# Runs a command beside a CPU hog, as on a busy shared CI runner: `stress-ng --cpu N` (N from SDGRADE_BUSY_CPUS,
# default 3; 2-4 is the intended range) runs for exactly as long as the command, however the command ends. Prints
# the load average at the start and at the end (on stderr) and exits with the command's exit code. Usage:
#   scripts/busy.sh npm test
#   SDGRADE_BUSY_CPUS=4 scripts/busy.sh node bin/sdgrade.js test 05 --manifest reference/05-rate-limiter/manifest.json
set -uo pipefail
if [ $# -eq 0 ]; then
  echo "usage: $0 COMMAND [ARG...]   (SDGRADE_BUSY_CPUS=N sets the number of CPU hogs, default 3)" >&2
  exit 2
fi
cpus=${SDGRADE_BUSY_CPUS:-3}
if ! [[ $cpus =~ ^[1-9][0-9]*$ ]]; then
  echo "busy.sh: SDGRADE_BUSY_CPUS must be a positive whole number (2-4 intended), got '$cpus'" >&2
  exit 2
fi
if ! command -v stress-ng >/dev/null 2>&1; then
  echo "busy.sh: stress-ng is not installed (Debian: apt-get install stress-ng)" >&2
  exit 2
fi

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "busy.sh: load average at start: $(load); starting stress-ng --cpu $cpus beside: $*" >&2

# In a session of its own (setsid execs it: in a script, a background job is no group leader), so one signal to
# its group stops it and all its workers.
setsid stress-ng --cpu "$cpus" --quiet </dev/null >/dev/null 2>&1 &
hog=$!
# If this script is killed outright (SIGKILL: no trap runs), this watcher still ends the hog within a second.
(
  trap '' INT TERM HUP
  while kill -0 $$ 2>/dev/null; do sleep 1; done
  kill -KILL -- "-$hog" 2>/dev/null
) </dev/null >/dev/null 2>&1 &

stop_hog() {
  kill -TERM -- "-$hog" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$hog" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$hog" 2>/dev/null
  wait "$hog" 2>/dev/null
}
code=0
trap 'stop_hog; echo "busy.sh: load average at end: $(load); exit code $code" >&2' EXIT
# The command runs in the background so that a signal to this script is handled at once (bash runs a trap only
# after a foreground command ends): it is passed on as TERM (a background job ignores INT), then the exit trap
# stops the hog.
forward() {
  code=$1
  kill -TERM "$child" 2>/dev/null
  wait "$child" 2>/dev/null
  exit "$code"
}
trap 'forward 130' INT
trap 'forward 143' TERM

"$@" <&0 &
child=$!
wait "$child"
code=$?
exit "$code"
