// TypeScript view of run-results.schema.json (the schema is the source of truth; tests validate documents against it).

export type CheckKind = 'conformance' | 'property' | 'fault';
export type CheckStatus = 'pass' | 'fail' | 'skipped' | 'error';
export type TargetVerdict = 'pass' | 'fail' | 'skipped' | 'info';
export type TargetOp = '>=' | '<=' | 'info';

export interface Counts {
  pass: number;
  fail: number;
  skipped: number;
  error: number;
}

export interface Environment {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  os: string;
  node: string;
  k6: string | null;
  gitCommit: string | null;
  ci: boolean;
  /** Where the run's PostgreSQL and Redis came from (the main job records it; absent for other commands). */
  services?: { postgres: string; redis: string };
}

export interface RecordedExchange {
  request: { method: string; url: string; headers?: Record<string, string>; body?: unknown };
  response: { status: number; headers?: Record<string, string>; body?: unknown } | null;
  violations: string[];
}

export interface CheckResult {
  id: string;
  kind: CheckKind;
  title: string;
  status: CheckStatus;
  reason?: string;
  durationMs: number;
  seed?: number;
  runs?: number;
  counterexample?: unknown;
  exchange?: RecordedExchange;
  evidence?: Record<string, unknown>;
  /** What the check changed on the target and did not put back (ctx.changed), e.g. "restarted every node". */
  changed?: string[];
  /** The settings the check graded against: the target's declared value, or the spec's default. */
  settings?: Record<string, string | number | boolean>;
}

/** The order the checks ran in; `checks` is always listed in catalog order. */
export interface CheckOrder {
  mode: 'catalog' | 'shuffled';
  /** The seed of a shuffled order (`--shuffle <seed>` replays it). */
  seed?: number;
  /** The check IDs in the order they ran. */
  ran: string[];
}

export interface TargetResult {
  id: string;
  title: string;
  metric: string;
  unit: string;
  op: TargetOp;
  value: number | null;
  target: number | null;
  verdict: TargetVerdict;
  reason?: string;
  origin?: string;
  yardstick?: { name: string; value: number; unit: string };
  ratio?: number;
  profile?: string;
}

export interface LoadScenario {
  name: string;
  targetRps?: number;
  rps: number;
  errorRate: number;
  latencyMs: { p50: number; p90: number; p95: number; p99: number; max: number };
}

export interface LoadResult {
  profile: 'smoke' | 'full';
  tool: string;
  summaryPath?: string;
  dashboardPath?: string;
  scenarios: LoadScenario[];
}

export interface ChapterResult {
  chapter: string;
  title: string;
  target: { mode: 'url' | 'manifest'; baseUrl: string; manifest?: string; implementation: string; variant?: string };
  checks: CheckResult[];
  order?: CheckOrder;
  /** The settings the target declared (manifest `settings`, `--setting`); undeclared ones have the spec's default. */
  settings?: Record<string, string | number | boolean>;
  targets: TargetResult[];
  load?: LoadResult;
  logs: { node: string; path: string }[];
  counts: Counts;
}

export interface RunResults {
  schemaVersion: 1;
  runId: string;
  startedAt: string;
  finishedAt: string;
  command?: string;
  environment: Environment;
  chapters: ChapterResult[];
  summary: Counts;
}
