// Tools nobody here wrote agree with the specs and the references: Schemathesis against every reference,
// openapi-spec-validator over every bundled spec, and openapi-python-client generating a client for every spec, with
// the 09 and 27 clients driving their references. Findings that are correct behaviour are listed with their reason
// in specs/_shared/outside-tools-expected.yaml; anything else fails. Without the tools (`npm run get-tools`) this is
// skipped with the reason, except in CI, where skipping would hide a regression and so fails.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { DEFAULT_API_KEY_SECRET, userKey } from '../chapters/29-stock-exchange/api.ts';
import type { ChapterModule } from '../chapters/chapter-module.ts';
import { chapters } from '../chapters/registry.ts';
import { loadManifest } from '../core/manifest.ts';
import { timeLimit } from '../core/time-scale.ts';
import { findPythonTools, type PythonTools } from '../tools/python-tools.ts';
import { bundleSpec } from './bundle-spec.ts';
import { isExpected, loadExpectedFindings } from './expected-findings.ts';
import { generatePythonClient } from './python-client.ts';
import { readSchemathesisReport, runSchemathesis } from './schemathesis.ts';
import { startReference } from './start-reference.ts';

/** Fixed, so a run can be repeated; bounded, so the seven chapters take a few minutes in all. */
const SEED = 1;
const MAX_EXAMPLES = 25;

const graded = chapters.filter((m) => existsSync(m.specFile) && existsSync(m.referenceManifest));
const expected = loadExpectedFindings();
/**
 * Chapters whose first slice has not been through the outside tools yet: their findings are not yet judged (fixed,
 * or recorded with a reason in specs/_shared/outside-tools-expected.yaml). Their Schemathesis runs are reported
 * skipped with this reason, never passed, and their Python client must still generate; each chapter's issue stays
 * open until it leaves this list.
 */
const NOT_YET_JUDGED: Record<string, string> = {};
/**
 * The longest a request may wait by the spec, in seconds, where it is longer than Schemathesis's 10 s per request:
 * 20's fetch long-polls up to maxWait 30,000 ms (openapi.yaml), and a fetch filtered by tags nobody carries waits it
 * out. Schemathesis then gets that plus 5 s, so a wait the spec allows is never taken for a hang.
 */
const LONGEST_WAIT_S: Record<string, number> = { '20-distributed-message-queue': 30 };
const notYet = (slug: string) => `outside tools not yet judged for ${slug}: ${NOT_YET_JUDGED[slug]}`;
const work = mkdtempSync(join(tmpdir(), 'sdgrade-outside-tools-'));
const bundled = new Map<string, string>();
let tools: PythonTools | null = null;
let missing: string | null = null;

function requireTools(ctx: TestContext): PythonTools {
  if (tools) return tools;
  if (process.env['CI']) throw new Error(`CI must run the outside tools, but: ${missing}`);
  return ctx.skip(missing ?? 'the Python outside tools are missing');
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  return new Promise<{ code: number; output: string }>((resolve) => {
    execFile(cmd, args, { env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

/**
 * Chapter 13 wants a bearer token on most operations: sign up and sign in as a tool's user would. Chapter 23's ops
 * writes want the staff key the reference starts with (its spec's grading default), as hotel staff would send it.
 */
async function headersFor(m: ChapterModule, baseUrl: string): Promise<Record<string, string>> {
  if (m.slug.startsWith('23-')) return { Authorization: 'Bearer sdgrade-hotel-staff' };
  // 29: the key of the spec's example user (alice), signed with the secret the reference manifest declares (else the
  // grading default), as a user of that deployment would hold it; other users get 403.
  if (m.slug.startsWith('29-')) {
    const secret = loadManifest(m.referenceManifest).settings?.['apiKeySecret'] ?? DEFAULT_API_KEY_SECRET;
    return { Authorization: `Bearer ${userKey(String(secret), 'alice')}` };
  }
  if (!m.slug.startsWith('13-')) return {};
  const credentials = { username: `outside_${Date.now().toString(36)}`, password: 'outside-tools-password' };
  const post = (path: string, body: unknown) =>
    fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const user = await post('/api/v1/users', credentials);
  if (user.status !== 201) throw new Error(`chapter 13 sign-up answered ${user.status}`);
  const session = await post('/api/v1/sessions', { ...credentials, deviceId: 'outside-tools' });
  const { token } = (await session.json()) as { token?: string };
  if (!token) throw new Error(`chapter 13 sign-in answered ${session.status} without a token`);
  return { Authorization: `Bearer ${token}` };
}

beforeAll(async () => {
  try {
    tools = await findPythonTools();
  } catch (error) {
    missing = (error as Error).message;
  }
  for (const m of graded) bundled.set(m.slug, await bundleSpec(m.slug, work));
}, timeLimit(120_000));

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('outside tools', () => {
  it(
    'openapi-spec-validator accepts every bundled spec',
    async (ctx) => {
      const t = requireTools(ctx);
      const files = [...bundled.values()];
      const r = await run(t.specValidator, files);
      expect(r.output).not.toMatch(/error/i);
      for (const f of files) expect(r.output).toContain(`${f}: OK`);
      expect(r.code).toBe(0);
    },
    timeLimit(120_000),
  );

  it(
    'openapi-python-client generates a client for every spec, and the 09 and 27 clients drive the references',
    async (ctx) => {
      const t = requireTools(ctx);
      const clients = join(work, 'python');
      const unexpected: string[] = [];
      for (const m of graded) {
        const g = await generatePythonClient(t, m.slug, bundled.get(m.slug) ?? '', clients);
        expect(g.ok, `${m.slug}: openapi-python-client failed:\n${g.output}`).toBe(true);
        for (const w of g.warnings) {
          if (NOT_YET_JUDGED[m.slug]) continue; // generated (asserted above); its warnings are not judged yet
          const known = expected.pythonClient.some((e) => e.chapter === m.slug && w.includes(e.warning));
          if (!known) unexpected.push(`${m.slug}: ${w}`);
        }
      }
      expect(unexpected).toEqual([]);

      const url09 = graded.find((m) => m.slug.startsWith('09-'));
      const pay27 = graded.find((m) => m.slug.startsWith('27-'));
      if (!url09 || !pay27) throw new Error('chapters 09 and 27 are not graded');
      const refs = [await startReference(url09, join(work, 'refs')), await startReference(pay27, join(work, 'refs'))];
      try {
        const script = fileURLToPath(new URL('./drive_clients.py', import.meta.url));
        const r = await run(t.python, [script, refs[0]?.baseUrl ?? '', refs[1]?.baseUrl ?? ''], {
          ...process.env,
          PYTHONPATH: clients,
        });
        console.log(r.output.trim());
        expect(r.code, r.output).toBe(0);
      } finally {
        for (const ref of refs) await ref.close();
      }
    },
    timeLimit(300_000),
  );

  for (const m of graded) {
    it(
      `Schemathesis finds nothing unexpected in ${m.slug}`,
      async (ctx) => {
        if (NOT_YET_JUDGED[m.slug]) return ctx.skip(notYet(m.slug));
        const t = requireTools(ctx);
        const ref = await startReference(m, join(work, 'refs'));
        try {
          const ndjsonPath = join(work, `${m.slug}.schemathesis.ndjson`);
          const started = Date.now();
          const r = await runSchemathesis({
            st: t.schemathesis,
            spec: bundled.get(m.slug) ?? '',
            baseUrl: ref.baseUrl,
            ndjsonPath,
            seed: SEED,
            maxExamples: MAX_EXAMPLES,
            headers: await headersFor(m, ref.baseUrl),
            timeoutMs: 420_000,
            ...(LONGEST_WAIT_S[m.slug] ? { requestTimeoutSeconds: LONGEST_WAIT_S[m.slug]! + 5 } : {}),
          });
          expect(existsSync(ndjsonPath), `Schemathesis wrote no report:\n${r.output.slice(-4000)}`).toBe(true);
          // 0: nothing found, 1: findings (judged below); anything else (killed at the time-out, a crash) is no result.
          expect([0, 1], `Schemathesis ended with ${r.exitCode}:\n${r.output.slice(-4000)}`).toContain(r.exitCode);
          const report = readSchemathesisReport(ndjsonPath);
          const accepted = report.findings.filter((f) => isExpected(m.slug, f, expected.schemathesis));
          const unexpected = report.findings.filter((f) => !isExpected(m.slug, f, expected.schemathesis));
          console.log(
            `Schemathesis ${m.slug}: ${report.requests} requests, ${report.testCases} test cases, ` +
              `failed checks ${JSON.stringify(report.failuresByCheck)} (${accepted.length} expected, ` +
              `${unexpected.length} not) in ${Math.round((Date.now() - started) / 1000)} s`,
          );
          expect(report.errors).toEqual([]);
          expect(report.requests).toBeGreaterThan(0);
          expect(unexpected).toEqual([]);
        } finally {
          await ref.close();
        }
        // Generous: on a shared two-core machine one chapter has taken four minutes; alone it takes seconds.
      },
      timeLimit(480_000),
    );
  }
});
