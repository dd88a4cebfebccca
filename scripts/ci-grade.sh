#!/usr/bin/env bash
# Grades one chapter in any CI system: runs the grade, appends report.md to the job summary (GitHub's
# $GITHUB_STEP_SUMMARY, when set), compares with a baseline run when one is given, and fails the step on a failed
# check or target, or on a regression. action.yml (the GitHub Action) calls exactly this script.
#
# Inputs, as environment variables:
#   SDGRADE_CHAPTER    chapter slug or number (required), e.g. 09-url-shortener
#   SDGRADE_URL        base URL of an implementation already running, or
#   SDGRADE_MANIFEST   a contract manifest (the harness starts, kills and restarts the implementation)
#   SDGRADE_LOAD       none (default), smoke or full: also run the chapter's k6 load test
#   SDGRADE_BASELINE   an earlier results folder or results.json to compare with (optional)
#   SDGRADE_THRESHOLD  speed regression share that fails the compare (default 0.15)
#   SDGRADE_OUT        where to write this run's results (default results/ci)
#   SDGRADE_ARGS       more arguments for `sdgrade test` (e.g. "--seed 7 --runs 20")
#   SDGRADE_CLI        how to run the CLI (default: the sdgrade in node_modules/.bin, else this checkout's)
# Exit: 0 passed (and no regression), 1 a check or target failed or a regression, 2 the harness could not run.
set -uo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
chapter="${SDGRADE_CHAPTER:?set SDGRADE_CHAPTER to the chapter to grade, e.g. 09-url-shortener}"
load="${SDGRADE_LOAD:-none}"
out="${SDGRADE_OUT:-results/ci}"
threshold="${SDGRADE_THRESHOLD:-0.15}"

if [ -n "${SDGRADE_CLI:-}" ]; then
  read -r -a cli <<<"$SDGRADE_CLI"
elif [ -x node_modules/.bin/sdgrade ]; then
  cli=(node_modules/.bin/sdgrade)
else
  cli=(node "$here/bin/sdgrade.js")
fi

target=()
if [ -n "${SDGRADE_URL:-}" ] && [ -n "${SDGRADE_MANIFEST:-}" ]; then
  echo "ci-grade: set SDGRADE_URL or SDGRADE_MANIFEST, not both" >&2; exit 2
elif [ -n "${SDGRADE_URL:-}" ]; then
  target=(--url "$SDGRADE_URL")
elif [ -n "${SDGRADE_MANIFEST:-}" ]; then
  target=(--manifest "$SDGRADE_MANIFEST")
else
  echo "ci-grade: set SDGRADE_URL (a running implementation) or SDGRADE_MANIFEST (how to start it)" >&2; exit 2
fi
case "$load" in
  none) loadArgs=() ;;
  smoke|full) loadArgs=(--load "$load") ;;
  *) echo "ci-grade: SDGRADE_LOAD must be none, smoke or full, not '$load'" >&2; exit 2 ;;
esac
extra=()
[ -n "${SDGRADE_ARGS:-}" ] && read -r -a extra <<<"$SDGRADE_ARGS"

echo "== sdgrade doctor $chapter (what this machine can grade)"
"${cli[@]}" doctor "$chapter" || true

echo "== sdgrade test $chapter ${target[*]} ${loadArgs[*]:-} ${extra[*]:-}"
"${cli[@]}" test "$chapter" "${target[@]}" "${loadArgs[@]}" "${extra[@]}" --out "$out"
grade=$?
if [ "$grade" -ge 2 ] || [ ! -f "$out/results.json" ]; then
  echo "ci-grade: the harness could not run (exit $grade)" >&2; exit 2
fi

if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$out/report.md" ]; then
  cat "$out/report.md" >>"$GITHUB_STEP_SUMMARY"
fi

cmp=0
if [ -n "${SDGRADE_BASELINE:-}" ]; then
  if [ -e "$SDGRADE_BASELINE" ]; then
    echo "== sdgrade compare $SDGRADE_BASELINE $out"
    "${cli[@]}" compare "$SDGRADE_BASELINE" "$out" --threshold "$threshold"
    cmp=$?
    [ "$cmp" -ge 2 ] && { echo "ci-grade: compare could not run (exit $cmp)" >&2; exit 2; }
  else
    echo "ci-grade: no baseline at $SDGRADE_BASELINE: nothing to compare (the first run makes one)"
  fi
fi

echo "== results in $out (grade exit $grade, compare exit $cmp)"
[ "$grade" -eq 0 ] && [ "$cmp" -eq 0 ] && exit 0
exit 1
