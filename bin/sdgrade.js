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
// handles the signal itself (serve) adds its own listener and shuts down gracefully instead.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (process.listenerCount(sig) === 1) process.exit(130);
  });
}
const { main } = await import('../harness/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
