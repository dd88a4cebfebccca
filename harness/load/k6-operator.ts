// A chapter's load as a k6 Operator TestRun: the script and everything it opens packed with `k6 archive` (its -e
// values inside) into a ConfigMap, a TestRun with `parallelism` runners (the operator gives each one execution
// segment), and the instructions for collecting each runner's raw samples, which `grade-load --from` grades with
// the same targets as a local run.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Profile } from '../core/load-run.ts';
import { rootDir } from '../core/paths.ts';
import { type LoadManifest, writeLoadManifest } from './chapter-k6.ts';

const run = promisify(execFile);

/** Each runner writes its samples as CSV to stdout and nothing else there, so `kubectl logs` collects them. */
export const RUNNER_ARGUMENTS = '--out csv=/dev/stdout --quiet --no-summary --log-output=none --no-usage-report';

export interface EmitOptions {
  chapter: string;
  script: string;
  env: Record<string, string>;
  profile: Profile;
  parallelism: number;
  outDir: string;
  k6: string;
  k6Version: string;
}

export interface Emitted {
  name: string;
  testRun: string;
  configMap: string;
  archive: string;
  readme: string;
}

/** A Kubernetes name: lower case, digits and dashes. */
export const resourceName = (chapter: string, profile: Profile) =>
  `sdgrade-${chapter}-${profile}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-');

export function testRunYaml(name: string, parallelism: number): string {
  return `# k6 Operator TestRun (k6.io/v1alpha1): ${parallelism} runner pods, one execution segment each.
apiVersion: k6.io/v1alpha1
kind: TestRun
metadata:
  name: ${name}
spec:
  parallelism: ${parallelism}
  script:
    configMap:
      name: ${name}
      file: archive.tar
  # Raw samples to stdout (collected with kubectl logs, one file per runner); no summary or logs in between.
  arguments: ${RUNNER_ARGUMENTS}
`;
}

export function configMapYaml(name: string, archive: Buffer): string {
  return `# The k6 archive of the chapter's script (script, lib and generated targets, -e values inside).
apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
binaryData:
  archive.tar: ${archive.toString('base64')}
`;
}

export function runnersReadme(o: { name: string; chapter: string; parallelism: number; dir: string }): string {
  return `# Running ${o.chapter}'s load on a k6 Operator

1. Apply the script and the test run (the operator must be installed in the cluster):

       kubectl apply -f configmap.yaml -f testrun.yaml

2. Wait until all ${o.parallelism} runners are done (stage \`finished\`):

       kubectl get testrun ${o.name} -w

3. Collect what each runner wrote: its raw samples, as k6 CSV on stdout (\`${RUNNER_ARGUMENTS}\`), one file per
   runner pod, into this folder (the runner pods carry the labels k6_cr=${o.name} and runner=true; check with
   \`kubectl get pods --show-labels\`):

       for pod in $(kubectl get pods -l k6_cr=${o.name},runner=true -o name); do
         kubectl logs "$pod" > "${o.dir}/$(basename "$pod").csv"
       done

4. Grade them with the same targets as a local run:

       node bin/sdgrade.js grade-load ${o.chapter} --from ${o.dir}

Every runner must contribute one file: a missing runner is a missing share of the load, and its requests would be
missing from the counts. The merged percentiles are computed from all runners' samples together.
`;
}

export async function emitK6Operator(o: EmitOptions): Promise<Emitted> {
  if (!Number.isInteger(o.parallelism) || o.parallelism < 1)
    throw new RangeError(`parallelism must be a whole number >= 1, got ${o.parallelism}`);
  const dir = resolve(o.outDir);
  await mkdir(dir, { recursive: true });
  const archive = join(dir, 'archive.tar');
  const envArgs = Object.entries(o.env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  await run(o.k6, ['archive', ...envArgs, '-O', archive, resolve(o.script)], {
    cwd: rootDir,
    env: { ...process.env, K6_NO_USAGE_REPORT: 'true' },
  });
  const bytes = await readFile(archive);
  // A ConfigMap holds at most 1 MiB (base64 counts).
  if (Math.ceil(bytes.length / 3) * 4 > 1_000_000)
    throw new Error(`the k6 archive is ${bytes.length} bytes, too big for a ConfigMap; use a volumeClaim`);
  const name = resourceName(o.chapter, o.profile);
  const testRun = join(dir, 'testrun.yaml');
  const configMap = join(dir, 'configmap.yaml');
  const readme = join(dir, 'README.md');
  await writeFile(testRun, testRunYaml(name, o.parallelism));
  await writeFile(configMap, configMapYaml(name, bytes));
  await writeFile(readme, runnersReadme({ name, chapter: o.chapter, parallelism: o.parallelism, dir }));
  const manifest: LoadManifest = {
    chapter: o.chapter,
    profile: o.profile,
    segments: o.parallelism,
    script: relative(rootDir, resolve(o.script)),
    env: o.env,
    k6Version: o.k6Version,
    samples: '<runner pod>.csv: one k6 CSV per runner (kubectl logs)',
    createdAt: new Date().toISOString(),
  };
  await writeLoadManifest(dir, manifest);
  return { name, testRun, configMap, archive, readme };
}
