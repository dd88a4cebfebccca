// Runs Schemathesis (every check, positive and negative data, every phase, a fixed seed and a bounded number of
// examples) against a running implementation, and reads its NDJSON event log into counts and findings.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** One failed check on one response. */
export interface Finding {
  /** Schemathesis's check name, e.g. `positive_data_acceptance`. */
  check: string;
  /** The operation as Schemathesis names it, e.g. `GET /api/v1/kv/{key}` (`Stateful tests` in the stateful phase). */
  operation: string;
  status: number | null;
  /** The problem body's `code`, when the response has one. */
  problemCode: string | null;
  /** The problem body's `detail` (why the implementation refused), when it has one. */
  detail: string | null;
  /** Schemathesis's message, first line. */
  message: string;
  /** How to send the same request again. */
  request: string;
}

export interface SchemathesisReport {
  /** HTTP requests sent (one per recorded interaction). */
  requests: number;
  /** Generated test cases. */
  testCases: number;
  /** Failed checks, counted by check name. */
  failuresByCheck: Record<string, number>;
  findings: Finding[];
  /** Operations Schemathesis could not test, with its reason (an error in the tool or the schema). */
  errors: string[];
}

export interface RunSchemathesisOptions {
  /** The `st` executable. */
  st: string;
  /** The bundled OpenAPI document. */
  spec: string;
  baseUrl: string;
  ndjsonPath: string;
  seed: number;
  maxExamples: number;
  headers?: Record<string, string>;
  timeoutMs: number;
  /** Per request (default 10 s); above the longest wait the spec lets a request ask for (a long poll's maxWait). */
  requestTimeoutSeconds?: number;
}

/** Runs `st run`; resolves with its output once it exits (exit 1 just means findings, which the report lists). */
export function runSchemathesis(o: RunSchemathesisOptions): Promise<{ exitCode: number; output: string }> {
  const args = [
    'run',
    o.spec,
    '--url',
    o.baseUrl,
    '--checks',
    'all',
    '--mode',
    'all',
    '--phases',
    'examples,coverage,fuzzing,stateful',
    '--seed',
    String(o.seed),
    '--max-examples',
    String(o.maxExamples),
    // One worker: the two cores are shared with the implementation under test.
    '--workers',
    '1',
    '--request-timeout',
    String(o.requestTimeoutSeconds ?? 10),
    '--report',
    'ndjson',
    '--report-ndjson-path',
    o.ndjsonPath,
    '--no-color',
  ];
  for (const [name, value] of Object.entries(o.headers ?? {})) args.push('--header', `${name}: ${value}`);
  return new Promise((resolve) => {
    execFile(
      o.st,
      args,
      {
        timeout: o.timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
        // Its working folder gets Schemathesis's own cache (.schemathesis/): the run's folder, not the checkout.
        cwd: dirname(o.ndjsonPath),
        env: { ...process.env, SCHEMATHESIS_TELEMETRY: 'false' },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ exitCode: code, output: `${stdout}${stderr}` });
      },
    );
  });
}

interface Interaction {
  request?: { method?: string; uri?: string };
  response?: { status_code?: number; content?: { $base64?: string } } | null;
}
interface CheckRecord {
  name: string;
  status: string;
  failure_info?: { failure?: { operation?: string; message?: string } };
}
interface ScenarioFinished {
  recorder?: {
    label?: string;
    cases?: Record<string, unknown>;
    checks?: Record<string, CheckRecord[]>;
    interactions?: Record<string, Interaction>;
  };
}

/** Reads Schemathesis's NDJSON event log (`--report ndjson`). */
export function readSchemathesisReport(ndjsonPath: string): SchemathesisReport {
  const report: SchemathesisReport = { requests: 0, testCases: 0, failuresByCheck: {}, findings: [], errors: [] };
  for (const line of readFileSync(ndjsonPath, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const event = JSON.parse(line) as Record<string, unknown>;
    const error = event['NonFatalError'] ?? event['FatalError'];
    if (error) {
      const e = error as { label?: string; info?: { message?: string; title?: string }; message?: string };
      const said = `${e.info?.title ?? ''} ${e.info?.message ?? e.message ?? ''}`.trim();
      // An error event without a title or message is reported whole (cut short), so its cause is never lost.
      report.errors.push(`${e.label ?? ''} ${said || JSON.stringify(error).slice(0, 2000)}`.trim());
    }
    const scenario = event['ScenarioFinished'] as ScenarioFinished | undefined;
    const recorder = scenario?.recorder;
    if (!recorder) continue;
    const interactions = recorder.interactions ?? {};
    report.requests += Object.keys(interactions).length;
    report.testCases += Object.keys(recorder.cases ?? {}).length;
    for (const [caseId, checks] of Object.entries(recorder.checks ?? {})) {
      for (const check of checks) {
        if (check.status !== 'failure') continue;
        report.failuresByCheck[check.name] = (report.failuresByCheck[check.name] ?? 0) + 1;
        const failure = check.failure_info?.failure ?? {};
        const interaction = interactions[caseId];
        report.findings.push({
          check: check.name,
          operation: failure.operation ?? recorder.label ?? '?',
          status: interaction?.response?.status_code ?? null,
          ...problemOf(interaction?.response?.content?.$base64),
          message: (failure.message ?? '').split('\n')[0] ?? '',
          request: `${interaction?.request?.method ?? '?'} ${interaction?.request?.uri ?? '?'}`,
        });
      }
    }
  }
  return report;
}

function problemOf(base64: string | undefined): { problemCode: string | null; detail: string | null } {
  const text = Buffer.from(base64 ?? '', 'base64').toString('utf8');
  try {
    const body = JSON.parse(text) as { code?: unknown; detail?: unknown };
    return {
      problemCode: typeof body.code === 'string' ? body.code : null,
      detail: typeof body.detail === 'string' ? body.detail.slice(0, 300) : null,
    };
  } catch {
    return s3ErrorOf(text);
  }
}

/**
 * Chapter 25 answers errors as S3 does, an XML `<Error>` with `<Code>` and `<Message>`: read as the problem's code and
 * detail, so its expected findings can name the error they accept.
 */
function s3ErrorOf(text: string): { problemCode: string | null; detail: string | null } {
  if (!/^(<\?xml[^>]*>\s*)?<Error>/.test(text.trimStart())) return { problemCode: null, detail: null };
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? null;
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? null;
  return { problemCode: code, detail: message === null ? null : message.slice(0, 300) };
}
