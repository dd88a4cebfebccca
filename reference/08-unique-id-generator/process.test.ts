// The reference as a process: refuses out-of-range node IDs at start-up (exit 2, a message naming the variable),
// and the ticket-server generator against a real PostgreSQL when one is given.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { timeLimit } from '../../harness/core/time-scale.ts';
import { TICKET_SEQUENCE, TicketServer } from './sources.ts';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const databaseUrl = process.env['TEST_DATABASE_URL'] ?? process.env['SDGRADE_DATABASE_URL'];

function start(env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', main], {
    env: { ...process.env, PORT: '0', DATABASE_URL: '', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

describe('08 reference start-up', () => {
  it.each([
    [{ MACHINE_ID: '32' }, /MACHINE_ID must be an integer from 0 to 31/],
    [{ DATACENTER_ID: '-1' }, /DATACENTER_ID must be an integer from 0 to 31/],
    [{ MACHINE_ID: 'one' }, /MACHINE_ID must be an integer/],
    [{ GENERATOR: 'ticket' }, /GENERATOR=ticket needs DATABASE_URL/],
    [{ GENERATOR: 'random' }, /GENERATOR must be one of snowflake, uuidv7, ticket/],
  ])(
    'refuses %o with exit code 2',
    (env, message) => {
      const r = start(env);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
    },
    30_000,
  );
});

describe.runIf(databaseUrl)('ticket server on real PostgreSQL', () => {
  it(
    'hands out increasing, unique IDs to concurrent batches',
    async () => {
      const ticket = await TicketServer.connect(databaseUrl!);
      try {
        const [a, b, one] = await Promise.all([ticket.batch(500), ticket.batch(500), ticket.next()]);
        const all = [...a, ...b, one].map((x) => BigInt(x));
        expect(new Set(all).size).toBe(1001);
        for (const batch of [a, b])
          for (let i = 1; i < batch.length; i++) expect(BigInt(batch[i]!)).toBeGreaterThan(BigInt(batch[i - 1]!));
        expect(await ticket.health()).toBe('up');
      } finally {
        await ticket.close();
      }
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query(`DROP SEQUENCE IF EXISTS ${TICKET_SEQUENCE}`);
      await client.end();
    },
    timeLimit(30_000),
  );
});
