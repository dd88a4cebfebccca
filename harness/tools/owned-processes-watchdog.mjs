// The watchdog of owned-processes.ts: started detached by the harness with a pipe on its stdin whose only writer is
// the harness. End of file on that pipe means the harness is gone (exited, or killed, even with SIGKILL): then
// kill every process group in the registry file, stop every PostgreSQL cluster in it, remove its folders, exit.
// Plain JavaScript with no imports beyond Node's, so it starts in milliseconds and cannot fail to load.
//   node owned-processes-watchdog.mjs <registry.json>
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

const registryFile = process.argv[2];
// Ctrl-C in a terminal or a hang-up must not stop the cleanup half-way.
for (const sig of ['SIGINT', 'SIGHUP', 'SIGTERM']) process.on(sig, () => {});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
};
const signal = (pid, sig) => {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
};

function readRegistry() {
  try {
    return JSON.parse(readFileSync(registryFile, 'utf8'));
  } catch {
    return { groups: [], postgres: [], dirs: [] };
  }
}

function postmasterPid(dataDir) {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

async function stopPostgres(dataDir) {
  // A start may have been under way: give postmaster.pid a moment to appear.
  let pid = postmasterPid(dataDir);
  for (let i = 0; !pid && i < 10 && existsSync(dataDir); i++) {
    await sleep(100);
    pid = postmasterPid(dataDir);
  }
  if (!pid || !alive(pid)) return;
  // SIGQUIT: immediate shutdown (the server stops its backends and exits, no checkpoint); SIGKILL if it lingers
  // (its backends notice the postmaster's death and exit on their own).
  signal(pid, 'SIGQUIT');
  for (let i = 0; i < 30 && alive(pid); i++) await sleep(100);
  if (alive(pid)) signal(pid, 'SIGKILL');
}

let done = false;
async function cleanUp() {
  if (done) return;
  done = true;
  const r = readRegistry();
  for (const pgid of r.groups ?? []) signal(-pgid, 'SIGKILL');
  await Promise.all((r.postgres ?? []).map(stopPostgres));
  // Anything started in a group after the first kill (a node restarting as we went) goes too.
  for (const pgid of r.groups ?? []) signal(-pgid, 'SIGKILL');
  for (const dir of r.dirs ?? []) rmSync(dir, { recursive: true, force: true });
  rmSync(dirname(registryFile), { recursive: true, force: true });
  process.exit(0);
}

process.stdin.on('data', () => {});
process.stdin.on('end', cleanUp);
process.stdin.on('close', cleanUp);
process.stdin.on('error', cleanUp);
