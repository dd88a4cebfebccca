// Round 7's blind-bug mutants (fixtures/blind-bugs/06-consistent-hashing/), like round 5's: hooks and wrappers that
// main.ts installs only when MUTANT names one of them, so the blind patches of ring.ts, app.ts and membership.ts keep
// applying. A wrapper of HashRing's prototype changes every ring of the process, which is the mutant's process alone.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Membership } from './membership.ts';
import type { MutantName } from './mutants.ts';
import { HashRing } from './ring.ts';

const path = (request: FastifyRequest) => request.url.split('?')[0] ?? '';

interface RingInside {
  hash: (text: string) => number;
  rebuild(): void;
  size: number;
  members(): { id: string; weight: number }[];
}

export function installRound7Mutant(app: FastifyInstance, membership: Membership, mutant: MutantName | undefined) {
  const ring = HashRing.prototype as unknown as RingInside & {
    owners(key: string, n: number): string[];
    set(id: string, weight?: number): unknown;
    spaceShares(): Map<string, number>;
  };
  switch (mutant) {
    case 'replicas-all-members-id-order': {
      // MUTANT replicas-all-members-id-order: when n covers every member, the owner and then the others in ID order.
      const owners = ring.owners;
      ring.owners = function (this: RingInside, key: string, n: number) {
        const r = owners.call(this, key, n);
        return r.length === this.size && r.length > 1 ? [r[0]!, ...r.slice(1).sort()] : r;
      };
      return;
    }
    case 'vnode-label-no-separator': {
      // MUTANT vnode-label-no-separator: virtual nodes hashed at id + i, no separator (`s1` 10 is `s11` 0).
      const rebuild = ring.rebuild;
      ring.rebuild = function (this: RingInside) {
        const hash = this.hash;
        this.hash = (label) => hash(label.replace(/#(\d+)$/, '$1'));
        try {
          rebuild.call(this);
        } finally {
          this.hash = hash;
        }
      };
      return;
    }
    case 'weight-capped-at-8': {
      // MUTANT weight-capped-at-8: weights above 8 put 8 units of virtual nodes on the ring.
      const set = ring.set;
      ring.set = function (this: RingInside, id: string, weight = 1) {
        return set.call(this, id, Math.min(weight, 8));
      };
      return;
    }
    case 'stats-nominal-space-share': {
      // MUTANT stats-nominal-space-share: the hash-space share reported is weight / total weight, not measured.
      ring.spaceShares = function (this: RingInside) {
        const members = this.members();
        const total = members.reduce((a, m) => a + m.weight, 0);
        return new Map(members.map((m) => [m.id, m.weight / total]));
      };
      return;
    }
    case 'owner-key-nfc':
      // MUTANT owner-key-nfc: getOwner normalizes the key to NFC (hashed and echoed); batch lookups do not.
      app.addHook('preHandler', async (request) => {
        if (request.method !== 'GET' || path(request) !== '/api/v1/owner') return;
        const query = request.query as { key: string };
        query.key = query.key.normalize('NFC');
      });
      return;
    case 'sample-share-three-decimals':
      // MUTANT sample-share-three-decimals: sampleShare rounded to 3 decimals.
      app.addHook('onSend', async (request, _reply, payload) => {
        if (request.method !== 'GET' || path(request) !== '/api/v1/stats' || typeof payload !== 'string')
          return payload;
        const body = JSON.parse(payload) as { servers?: { sampleShare: number }[] };
        for (const s of body.servers ?? []) s.sampleShare = Math.round(s.sampleShare * 1000) / 1000;
        return JSON.stringify(body);
      });
      return;
    case 'emptied-ring-restart-version-zero':
      // MUTANT emptied-ring-restart-version-zero: a restart with no servers stored starts the version from 0.
      if (membership.servers().length === 0) membership.version = 0;
      return;
  }
}
