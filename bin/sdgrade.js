#!/usr/bin/env node
// The sdgrade command. The harness is TypeScript run through tsx, so a checkout works without a build step.
import { register } from 'tsx/esm/api';

register();
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
const { main } = await import('../harness/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
