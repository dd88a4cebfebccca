// Which reference modules `sdgrade mutate` takes: the chapter's core modules by default (not the kit, main, tests,
// hand-written mutants, or the real-service backends unless asked), or a glob.
import { describe, expect, it } from 'vitest';
import { rootDir } from '../core/paths.ts';

describe('which files mutate takes', () => {
  it('the core modules by default, a glob when given', async () => {
    const { chapterFiles, globToRegExp } = await import('./chapter-files.ts');
    const core = chapterFiles(rootDir, '09-url-shortener');
    expect(core).toContain('reference/09-url-shortener/codes.ts');
    expect(core.some((f) => /main\.ts$|mutants\.ts$|\.test\.ts$|redis|postgres/.test(f))).toBe(false);
    expect(chapterFiles(rootDir, '09-url-shortener', { realDeps: true })).toContain(
      'reference/09-url-shortener/store-postgres.ts',
    );
    expect(chapterFiles(rootDir, '09-url-shortener', { glob: '{codes,base62}.ts' })).toEqual([
      'reference/09-url-shortener/base62.ts',
      'reference/09-url-shortener/codes.ts',
    ]);
    // hand-written mutants in a module of their own are left out like mutants.ts
    const leaderboard = chapterFiles(rootDir, '26-gaming-leaderboard', { realDeps: true });
    expect(leaderboard).toContain('reference/26-gaming-leaderboard/board-redis.ts');
    expect(leaderboard).not.toContain('reference/26-gaming-leaderboard/mutant-stores.ts');
    // and so are the parts of a long mutants list kept in modules of their own (data, never run as code)
    const exchange = chapterFiles(rootDir, '29-stock-exchange');
    expect(exchange).toContain('reference/29-stock-exchange/app.ts');
    expect(exchange.some((f) => /mutants-/.test(f))).toBe(false);
    // 20's delay-mutants.ts (hand-written mutants named for what they break) and its client library (client/: no
    // check starts it) are left out too
    const queue = chapterFiles(rootDir, '20-distributed-message-queue');
    expect(queue).toContain('reference/20-distributed-message-queue/partition-log.ts');
    expect(queue.some((f) => /delay-mutants\.ts$|\/client\//.test(f))).toBe(false);
    expect(globToRegExp('reference/**/*.ts').test('reference/a/b/c.ts')).toBe(true);
    expect(globToRegExp('*.ts').test('a/b.ts')).toBe(false);
  });
});
