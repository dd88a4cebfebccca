// The chapter 06 reference server: node --import tsx reference/06-consistent-hashing/main.ts
// Wires config -> membership (DATA_DIR/membership.json) -> placement -> app -> run-server (see README.md).
import { ConfigError } from '../kit/config.ts';
import { loadSpec } from '../kit/load-spec.ts';
import { runServer } from '../kit/run-server.ts';
import { ALGORITHMS, isAlgorithm } from './algorithms.ts';
import { buildApp, SPEC_URL } from './app.ts';
import { Membership } from './membership.ts';
import { MUTANT_NAMES, type MutantName } from './mutants.ts';
import { installRound5Mutant } from './mutants-round5.ts';
import { installRound7Mutant } from './mutants-round7.ts';

await runServer({
  chapter: '06-consistent-hashing',
  defaultPort: 8060,
  mutants: MUTANT_NAMES,
  async start({ config, readiness }) {
    const mutant = config.mutant as MutantName | undefined;
    const algorithm = process.env['ALGORITHM']?.trim() || 'ring';
    if (!isAlgorithm(algorithm))
      throw new ConfigError(`ALGORITHM must be one of ${ALGORITHMS.join(', ')}, got '${algorithm}'`);
    const vnodesText = process.env['VIRTUAL_NODES']?.trim() || '200';
    const virtualNodes = Number(vnodesText);
    if (!/^\d+$/.test(vnodesText) || virtualNodes < 1 || virtualNodes > 1000)
      throw new ConfigError(`VIRTUAL_NODES must be an integer from 1 to 1000, got '${vnodesText}'`);
    // Maglev's table: a prime (each member's permutation must visit every entry), above 256 servers x weight 16 so
    // every member gets its full weight in the first round.
    const tableText = process.env['MAGLEV_TABLE_SIZE']?.trim() || '65537';
    const tableSize = Number(tableText);
    if (!/^\d+$/.test(tableText) || tableSize < 4099 || tableSize > 1_000_003 || !isPrime(tableSize))
      throw new ConfigError(`MAGLEV_TABLE_SIZE must be a prime from 4099 to 1000003, got '${tableText}'`);
    const spec = await loadSpec(SPEC_URL);
    const membership = new Membership({ algorithm, dataDir: config.dataDir, virtualNodes, tableSize, mutant });
    readiness.dependencies = async () => ({ membership: 'embedded' });
    const app = buildApp({ spec, readiness, membership, algorithm, mutant, logger: { level: config.logLevel } });
    installRound5Mutant(app, membership, mutant); // does nothing unless MUTANT names one of round 5's
    installRound7Mutant(app, membership, mutant); // nor this, unless it names one of round 7's
    app.log.info(
      {
        algorithm,
        virtualNodes,
        ...(algorithm === 'maglev' ? { tableSize } : {}),
        servers: membership.servers().length,
        version: membership.version,
        mutant: mutant ?? null,
      },
      'placement service configured',
    );
    return { app, close: async () => {} };
  },
});

function isPrime(n: number): boolean {
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return n > 1;
}
