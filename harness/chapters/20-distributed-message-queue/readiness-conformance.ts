// MQ-C1: readiness answers 200 with the health body; unknown paths and undeclared methods get a problem body.
import type { CheckContext } from '../../core/check-context.ts';
import { readinessAndUnknownRoutes } from '../../core/common-checks.ts';

export function readinessConformance(ctx: CheckContext): Promise<void> {
  return readinessAndUnknownRoutes(ctx, [
    { method: 'DELETE', path: '/api/v1/topics' },
    { method: 'PUT', path: '/api/v1/topics/t' },
    { method: 'GET', path: '/api/v1/topics/t/messages' },
    { method: 'POST', path: '/api/v1/topics/t/partitions/0/messages' },
    { method: 'PUT', path: '/api/v1/groups/g' },
    { method: 'GET', path: '/api/v1/groups/g/members' },
    { method: 'GET', path: '/api/v1/groups/g/members/m/heartbeat' },
    { method: 'DELETE', path: '/api/v1/groups/g/offsets' },
  ]);
}
