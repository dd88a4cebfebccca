// sdgrade: grade implementations of the book's systems against their specs. Exit codes: 0 pass, 1 fail, 2 error.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { gradedSlugs } from '../chapters/graded-slugs.ts';

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number >= 1');
  return n;
}

// Each action imports its command's module when it runs: `--help`, `list` and `estimate` load no chapter (fast).
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const set = (c: number) => {
    code = c;
  };
  const program = new Command('sdgrade')
    .description(
      'Specs, reference implementations and a grading harness for the systems of the System Design Interview books.\n' +
        'Exit codes: 0 everything passed, 1 a check or target failed, 2 the harness could not run.',
    )
    .exitOverride()
    .showHelpAfterError();
  const graded = gradedSlugs.join(', ');
  const targetOpts = (c: Command) =>
    c
      .option('--url <url>', 'grade an implementation already running at this base URL')
      .option('--manifest <file>', 'start the implementation from this manifest (unlocks kill -9, pause, restart)')
      .option('--seed <n>', 'run seed (printed and recorded; replays a failure)', (v) => Number.parseInt(v, 10))
      .option('--runs <n>', 'fast-check runs per property', (v) => Number.parseInt(v, 10), 40)
      .option('--only <ids>', 'only these check IDs, comma-separated', (v) => v.split(','))
      .option('--env <k=v...>', 'extra environment for manifest nodes (e.g. MUTANT=no-dedup)')
      .option(
        '--real-deps',
        'PostgreSQL and Redis from SDGRADE_DATABASE_URL / SDGRADE_REDIS_URL, else testcontainers where Docker runs, else embedded (said why)',
      )
      .option('--out <dir>', 'write results here instead of results/runs/<run-id>');

  program
    .command('list')
    .description('list the chapters and their status from the latest run')
    .action(async () => {
      const { cmdList } = await import('./list.ts');
      set(await cmdList());
    });

  targetOpts(
    program
      .command('test')
      .argument('<chapter>', `chapter slug or number (${graded})`)
      .description('grade a chapter: conformance, properties and faults (and load with --load)'),
  )
    .addOption(new Option('--load <profile>', 'also run the k6 load test').choices(['smoke', 'full']))
    .option('--fail-fast', 'stop at the first failed check (the rest are reported skipped, with that reason)')
    .option(
      '--shuffle [seed]',
      'run the checks in a seeded shuffled order (seed printed and recorded; a new one when not given)',
      (v) => Number.parseInt(v, 10),
    )
    .option(
      '--setting <k=v...>',
      "a setting the implementation declares where it differs from the spec's default (e.g. failMode=closed); overrides a manifest's settings",
    )
    .option('--strict', 'count targets beyond this machine as failures')
    .option(
      '--variant <name>',
      "grade a deployment option of the chapter's reference (its env, settings and the checks that apply; an unknown name lists them)",
    )
    .action(async (chapter, opts) => {
      const { cmdTest } = await import('./cmd-test.ts');
      set(await cmdTest(chapter, opts));
    });

  targetOpts(
    program.command('load').argument('<chapter>').description('run only the k6 load test and the targets it measures'),
  )
    .addOption(
      new Option('--profile <profile>', 'smoke: seconds, for CI; full: a real measurement')
        .choices(['smoke', 'full'])
        .default('smoke'),
    )
    .option(
      '--segments <n>',
      'run the load from N k6 processes, one execution segment each, and grade the merged samples',
      positiveInt,
    )
    .option(
      '--emit-k6-operator <dir>',
      'write a k6 Operator TestRun (parallelism = --segments, default 2) for --url instead of running',
    )
    .option('--strict', 'count targets beyond this machine as failures')
    .action(async (chapter, opts) => {
      if (opts.emitK6Operator) {
        const { cmdEmitK6Operator } = await import('./grade-load.ts');
        return set(
          await cmdEmitK6Operator(chapter, {
            dir: opts.emitK6Operator,
            url: opts.url,
            profile: opts.profile,
            segments: opts.segments,
          }),
        );
      }
      const { cmdTest } = await import('./cmd-test.ts');
      set(await cmdTest(chapter, { ...opts, load: opts.profile, only: ['none'] }));
    });

  program
    .command('grade-load')
    .argument('<chapter>', 'chapter slug or number')
    .requiredOption(
      '--from <dir>',
      "the runners' outputs: a `load --segments N` load folder, or an --emit-k6-operator folder with one CSV per runner",
    )
    .option('--out <dir>', 'write results here instead of results/runs/<run-id>')
    .option('--strict', 'count targets beyond this machine as failures')
    .description(
      "grade the k6 samples of N runners made elsewhere with the chapter's targets; writes the same results and report",
    )
    .action(async (chapter, opts) => {
      const { cmdGradeLoad } = await import('./grade-load.ts');
      set(await cmdGradeLoad(chapter, opts));
    });

  program
    .command('bench')
    .argument('<chapter>', 'chapter slug or number')
    .addOption(
      new Option('--profile <profile>', 'smoke: a fraction of a second per task; full: seconds')
        .choices(['smoke', 'full'])
        .default('full'),
    )
    .option('--out <dir>', 'write results here instead of results/runs/<run-id>')
    .description("the in-process micro-benchmark of the chapter's core against the best-known package, as ratios")
    .action(async (chapter, opts) => {
      const { cmdBench } = await import('./commands.ts');
      set(await cmdBench(chapter, opts));
    });

  program
    .command('serve')
    .argument('[chapter]', 'chapter slug or number; all when omitted')
    .description('run reference implementations on embedded defaults until Ctrl-C')
    .action(async (chapter) => {
      const { cmdServe } = await import('./commands.ts');
      set(await cmdServe(chapter));
    });

  program
    .command('mutants')
    .argument('[chapter]', 'chapter slug or number; all when omitted')
    .option('--runs <n>', 'fast-check runs per property', (v) => Number.parseInt(v, 10), 25)
    .option('--only <names>', 'only these mutants, comma-separated', (v) => v.split(','))
    .description(
      'self-test: start each deliberately broken reference and check the harness catches it with the check named for it',
    )
    .action(async (chapter, opts) => {
      const { cmdMutants } = await import('./commands.ts');
      set(await cmdMutants(chapter, opts));
    });

  program
    .command('all')
    .description(
      'the main job: grade every reference implementation, with load, and write the report; PostgreSQL and Redis from SDGRADE_DATABASE_URL / SDGRADE_REDIS_URL, else throwaway local servers where the Debian packages are installed, else the embedded defaults',
    )
    .option('--embedded', 'use the embedded defaults even where PostgreSQL or Redis could be used')
    .option('--chapters <list>', 'only these chapters (slugs or numbers, comma-separated)', (v) => v.split(','))
    .addOption(new Option('--profile <profile>', 'load profile').choices(['smoke', 'full']).default('full'))
    .option('--runs <n>', 'fast-check runs per property', (v) => Number.parseInt(v, 10), 40)
    .option('--seed <n>', 'run seed', (v) => Number.parseInt(v, 10))
    .option('--out <dir>', 'write results here instead of results/runs/<run-id>')
    .option('--segments <n>', "run each chapter's load from N k6 processes (execution segments)", positiveInt)
    .option('--strict', 'count targets beyond this machine as failures')
    .action(async (opts) => {
      const { cmdAll } = await import('./cmd-all.ts');
      set(await cmdAll(opts));
    });

  program
    .command('compare')
    .argument('<a>', 'earlier results.json (or its run folder)')
    .argument('<b>', 'later results.json (or its run folder)')
    .option('--threshold <ratio>', 'speed regression beyond this share fails (0.15 = 15%)', Number.parseFloat, 0.15)
    .description('what changed between two runs; exit 1 on a correctness or speed regression')
    .action(async (a, b, opts) => {
      const { cmdCompare } = await import('./commands.ts');
      set(await cmdCompare(a, b, opts.threshold));
    });

  program
    .command('report')
    .argument('<results>', 'results.json (or its run folder)')
    .option('--out <dir>', 'where to write the report (default: beside the results)')
    .option('--readme', 'also update the chapter table in README.md')
    .option(
      '--also <results...>',
      'with --readme: further runs for chapters this one did not grade (named under the table)',
    )
    .option(
      '--keep-rows',
      "with --readme: chapters none of the runs graded keep the table's row as it was, its run named under the table",
    )
    .description('render the Markdown, HTML and JUnit reports of a run')
    .action(async (results, opts) => {
      const { cmdReport } = await import('./cmd-report.ts');
      set(await cmdReport(results, opts));
    });

  program
    .command('estimate')
    .argument('[topic]', 'powers, latency, availability, twitter, or a chapter slug')
    .description("back-of-the-envelope estimates (chapter 3) and each chapter's derived numbers")
    .action(async (topic) => {
      const { cmdEstimate } = await import('./estimate.ts');
      set(await cmdEstimate(topic));
    });

  program
    .command('new-chapter')
    .argument('<slug>', 'e.g. 05-rate-limiter')
    .option('--prefix <ID>', 'check ID prefix, e.g. RL')
    .description('scaffold a chapter in every top-level folder from the template')
    .action(async (slug, opts) => {
      const { cmdNewChapter } = await import('./commands.ts');
      set(await cmdNewChapter(slug, opts));
    });

  program
    .command('init')
    .argument('<chapter>', 'chapter slug or number')
    .option('--command <line>', 'the command that starts one node of your implementation (asked when omitted)')
    .option('--port-env <NAME>', 'environment variable your implementation reads its port from', 'PORT')
    .option('--data-dir-env <NAME>', 'environment variable for its data directory (kept across restarts)')
    .option('--name <name>', 'a name for reports (default: the folder name)')
    .option('--nodes <n>', 'how many nodes to start', (v) => Number.parseInt(v, 10), 1)
    .option('--out <file>', 'where to write the manifest', 'sdgrade.manifest.json')
    .option('--force', 'overwrite an existing file')
    .description(
      'write a contract manifest for your implementation (unlocks kill -9, pause, restart, dependency faults)',
    )
    .action(async (chapter, opts) => {
      const { cmdInit } = await import('./init.ts');
      set(await cmdInit(chapter, opts));
    });

  program
    .command('mutate')
    .argument('<chapter>', 'chapter slug or number')
    .option('--sample <n>', 'how many mutants to grade (a seeded sample)', (v) => Number.parseInt(v, 10), 40)
    .option('--seed <n>', 'sample and run seed (printed; replays the same sample)', (v) => Number.parseInt(v, 10))
    .option('--files <glob>', "which reference modules to mutate (default: the chapter's core modules)")
    .option(
      '--timeout-ms <ms>',
      'time limit per mutant, times SDGRADE_TIME_SCALE',
      (v) => Number.parseInt(v, 10),
      600_000,
    )
    .option('--runs <n>', 'fast-check runs per property', (v) => Number.parseInt(v, 10), 15)
    .option('--real-deps', 'also mutate the Redis/PostgreSQL backends and grade with SDGRADE_*_URL')
    .option('--record', 'write the score to specs/<chapter>/mutation-score.json (checked in; shown in the README)')
    .option(
      '--rescore',
      're-read the saved run of --seed and move the survivors judged equivalent since (mutate-equivalent.yaml) out of its score, without grading again; a judgment whose code moved since the run is left out (exit 2)',
    )
    .option(
      '--regrade-survivors',
      "with the saved run of --seed: after --rescore's judgments, grade its open mutants again with today's checks (those whose code still stands) and keep the run's kills",
    )
    .option(
      '--resume',
      'finish the run of --seed that was cut short: reuse the verdicts it saved after each mutant (refused when the reference, spec, kit or harness changed since)',
    )
    .option(
      '--variants <names>',
      'grade each mutant under these deployment variants of the reference, comma-separated (default: every variant that can run here)',
      (v) => v.split(','),
    )
    .description(
      "sampled automated mutants (StrykerJS's instrumenter) of the chapter's reference, graded by every check: score with a 95% interval, survivors with their diffs",
    )
    .action(async (chapter, opts) => {
      const { cmdMutate } = await import('../mutate/cmd-mutate.ts');
      set(await cmdMutate(chapter, opts));
    });

  program
    .command('blind-bugs')
    .argument('<chapter>', 'chapter slug or number')
    .option('--only <ids...>', 'grade only these bugs (their ids in bugs.yaml)')
    .option(
      '--list',
      'list the bugs and what bugs.yaml records for each (a new entry without before: is pending), without grading',
    )
    .option('--no-baseline', 'skip grading the unpatched reference first')
    .option('--timeout-ms <ms>', 'time limit per bug', (v) => Number.parseInt(v, 10), 900_000)
    .option('--runs <n>', 'fast-check runs per property (as `test`)', (v) => Number.parseInt(v, 10), 40)
    .option('--seed <n>', 'run seed (printed)', (v) => Number.parseInt(v, 10))
    .description(
      "grade the chapter's blind bugs (fixtures/blind-bugs/<chapter>/, written by someone who never read its checks) and compare with what bugs.yaml records",
    )
    .action(async (chapter, opts) => {
      const { cmdBlindBugs } = await import('../blind-bugs/cmd-blind-bugs.ts');
      set(await cmdBlindBugs(chapter, opts));
    });

  program
    .command('doctor')
    .argument('[chapter]', 'chapter slug or number; every graded chapter when omitted')
    .description(
      'what this machine has for grading, which checks would be skipped without each tool, and how to get it',
    )
    .action(async (chapter) => {
      const { cmdDoctor } = await import('./doctor.ts');
      set(await cmdDoctor(chapter));
    });

  program
    .command('get-tools')
    .description('get k6 and Toxiproxy (PATH, the cache, or a one-time go install), as `npm run get-tools` does')
    .action(async () => {
      process.exitCode = 0;
      await import('../../scripts/get-tools.ts');
      set(process.exitCode ?? 0);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    console.error(`sdgrade: ${(e as Error).message}`);
    if (process.env.SDGRADE_DEBUG) console.error((e as Error).stack);
    return 2;
  }
  return code;
}
