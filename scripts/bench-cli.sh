#!/usr/bin/env bash
# How fast the CLI starts: mean wall time of `--help`, `list` and `estimate 09` over several runs, with hyperfine
# (Debian package hyperfine). A benchmark to read, not a test: the goal is under 0.5 s each on a 2-core machine.
# Usage: scripts/bench-cli.sh [extra hyperfine options, e.g. --runs 20]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "bench-cli: hyperfine is not installed (apt-get install hyperfine)" >&2; exit 2; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# The warm-up runs also bring the CLI bundle in .cache/cli up to date, so the build is not measured.
hyperfine --warmup 2 --runs 10 --style basic --export-json "$out" "$@" \
  -n 'sdgrade --help' 'node bin/sdgrade.js --help' \
  -n 'sdgrade list' 'node bin/sdgrade.js list' \
  -n 'sdgrade estimate 09' 'node bin/sdgrade.js estimate 09' >&2
node -e '
  const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")).results;
  for (const x of r) console.log(`${x.command.padEnd(20)} mean ${(x.mean * 1000).toFixed(0)} ms ± ${(x.stddev * 1000).toFixed(0)} ms (user ${(x.user * 1000).toFixed(0)} ms)`);
' "$out"
