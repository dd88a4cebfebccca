#!/usr/bin/env node
// The sdgrade command. The harness is TypeScript run through tsx, so a checkout works without a build step; the CLI's
// entry itself runs from a bundle esbuild keeps up to date (bin/cli-bundle.js), so `--help`, `list` and `estimate`
// start without registering tsx (see scripts/bench-cli.sh).
import { cliBundle } from './cli-bundle.js';

const argv = process.argv.slice(2);
// Commands the bundle runs by itself; every other command loads TypeScript modules, so tsx is registered first.
const lightCommands = new Set([undefined, '--help', '-h', 'help', 'list', 'estimate']);
const bundle = await cliBundle();
if (!bundle || !lightCommands.has(argv[0])) {
  const { register } = await import('tsx/esm/api');
  register();
}
// `sdgrade ... | head` closes stdout early: that is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
// Ctrl-C or a TERM exits through process.exit, so the harness's exit hooks stop what it started; a command that
// shuts down gracefully on the signal itself (serve) says so with this flag. (Not by counting listeners: libraries
// such as signal-exit add their own, and each then waited for the other, so the signal was ignored.)
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (!globalThis[Symbol.for('sdgrade.gracefulSignals')]) process.exit(130);
  });
}
const { main } = await import(bundle ?? '../harness/cli/main.ts');
process.exitCode = await main(argv);
