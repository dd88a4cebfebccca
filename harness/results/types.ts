// TypeScript view of run-results.schema.json (the schema is the source of truth; tests validate documents against it).

export type CheckKind = 'conformance' | 'property' | 'fault';
export type CheckStatus = 'pass' | 'fail' | 'skipped' | 'error';
/**
 * beyond-machine: the target was not met, and the same run shows this machine could not have met it (the no-op
 * yardstick did not carry the offered rate, or k6 itself was saturated). Not a failure unless --strict.
 */
export type TargetVerdict = 'pass' | 'fail' | 'beyond-machine' | 'skipped' | 'info';
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
  /** The deployment variant (and its manifest) this check was graded on, when not the chapter's own target: the
   * main job grades what the default deployment skips (checks that need a cluster) on a variant that has it. */
  variant?: string;
  variantManifest?: string;
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
  /** For a target measured at an offered rate: what the no-op yardstick and k6 did at that rate, same run. */
  atRate?: AtRate;
}

/** The rate a target was measured at, and whether this machine could carry it at all. */
export interface AtRate {
  /** Requests per second offered in the measured window, all scenarios together. */
  offeredRps: number;
  /** The no-op server at the same offered rate, same run; absent when not measured here (e.g. grade-load). */
  yardstick?: YardstickAtRate;
  loadGenerator?: LoadGeneratorUse;
}

export interface YardstickAtRate {
  /** No dropped iterations and no errors (and, for a latency target, its p99 within the target). */
  carried: boolean;
  rps: number;
  dropped: number;
  p99Ms: number;
}

/** k6's own CPU use during a run (from /proc/<pid>/stat of the k6 processes) and what it could not start. */
export interface LoadGeneratorUse {
  processes: number;
  /** CPU cores used on average over the run (1 = one core busy). */
  cpuCores: number;
  /** Highest one-second CPU use, in cores. */
  peakCpuCores: number;
  dropped: number;
  /** True when k6 itself was the bottleneck (over 0.9 of a core on average, or dropping iterations at it). */
  saturated: boolean;
  why?: string;
}

/** One step of the stepped search of the arrival rate. */
export interface CapacityStep {
  rate: number;
  rps: number;
  p99Ms: number;
  dropped: number;
  errorRate: number;
  ok: boolean;
  k6CpuCores?: number;
  /** The side-by-side search's round: the yardstick's and the implementation's steps of one round ran back to back. */
  round?: number;
}

/** The implementation's capacity per node for a rate target, and the nodes the book's rate would need at it. */
export interface CapacityPerNode {
  /** The rate target, e.g. URL-T2. */
  target: string;
  /** What was probed, e.g. "redirect". */
  label: string;
  unit: string;
  /** The latency target a step must meet, e.g. URL-T4 p99 <= 50 ms. */
  latency: { id: string; p99Ms: number };
  /** Highest arrival rate (in unit) carried within the latency target; null when not measured. */
  perNode: number | null;
  /** The same search against the no-op server, same run (req/s). */
  yardstick: number | null;
  ratio: number | null;
  bookRate: number;
  nodesNeeded: number | null;
  /** Why the search stopped where it did (latency, dropped iterations, errors, the search's top rate). */
  limitedBy?: string;
  assumption: string;
  /** The shared store's own capacity, where the chapter has one. */
  store?: { name: string; measured: boolean; note: string };
  reason?: string;
  steps?: CapacityStep[];
  yardstickSteps?: CapacityStep[];
}
export interface LoadScenario {
  name: string;
  targetRps?: number;
  rps: number;
  errorRate: number;
  latencyMs: { p50: number; p90: number; p95: number; p99: number; max: number };
  /** Iterations the open model could not start in time (the rate was not carried). */
  dropped?: number;
  loadGenerator?: LoadGeneratorUse;
}

export interface LoadResult {
  profile: 'smoke' | 'full';
  tool: string;
  summaryPath?: string;
  dashboardPath?: string;
  /** k6 processes the load came from (1 unless --segments or grade-load). */
  segments?: number;
  scenarios: LoadScenario[];
  capacity?: CapacityPerNode[];
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
