/**
 * `npm run bench`: every performance claim of the project as a figure anyone
 * can reproduce on their own machine.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { git } from '@conveyor/tooling-support';

import { failedSection, fmt, mergeSections, type BenchContext, type Machine, type SectionResult } from './report';
import { renderMarkdown } from './render';
import { SECTIONS } from './sections';

const USAGE = `usage: npm run bench -- [--only <ids> [--merge]] [--reps <n>] [--out <dir>] [--render-only]
  --only <ids>   comma-separated sections: ${SECTIONS.map((s) => s.id).join(', ')} (default: all)
  --reps <n>     repetitions per variant (default 3; minute-long variants use fewer and say so)
  --out <dir>    where to write report.md and results.json (default: <repo>/bench)
  --merge        with --only: keep the other sections of <out>/results.json and replace only these;
                 each one merged states its own run's date, commit and load
  --render-only  measure nothing: write report.md again from <out>/results.json (after a change to the report's layout)`;

class UsageError extends Error {}

/** What results.json holds: the run (or, after --merge, the run the header describes) and every section's figures. */
interface Results {
  readonly machine: Machine;
  readonly durationMs: number;
  readonly reps: number;
  readonly sections: readonly SectionResult[];
}

function machine(root: string, loadAtStart: number): Machine {
  let commit = 'unknown';
  try {
    commit = git(root, ['rev-parse', '--short', 'HEAD']).trim();
    if (git(root, ['status', '--porcelain', '--untracked-files=no']).trim()) commit += ' (with uncommitted changes)';
  } catch {
    // Not a git checkout: the report says "unknown".
  }
  return {
    date: new Date().toISOString().slice(0, 10),
    node: process.version,
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    commit,
    loadAverage: { start: loadAtStart, end: os.loadavg()[0] ?? Number.NaN },
  };
}

function options(argv: readonly string[]) {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      only: { type: 'string' },
      reps: { type: 'string', default: '3' },
      out: { type: 'string' },
      'render-only': { type: 'boolean', default: false },
      merge: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const reps = Number(values.reps);
  if (!Number.isInteger(reps) || reps < 1 || reps > 20) throw new UsageError(`--reps must be a whole number from 1 to 20, got "${values.reps}"`);
  const ids = values.only?.split(',').map((s) => s.trim()) ?? SECTIONS.map((s) => s.id);
  const unknown = ids.filter((id) => !SECTIONS.some((s) => s.id === id));
  if (unknown.length > 0) throw new UsageError(`--only: unknown section "${unknown.join('", "')}"; known: ${SECTIONS.map((s) => s.id).join(', ')}`);
  if (values.merge && values.only === undefined) throw new UsageError('--merge replaces the sections --only names in the saved report: give --only too');
  return { ...values, reps, sections: SECTIONS.filter((s) => ids.includes(s.id)) };
}

async function main(argv: readonly string[]): Promise<number> {
  const opts = options(argv);
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  const root = git(__dirname, ['rev-parse', '--show-toplevel']).trim();
  const outDir = path.resolve(opts.out ?? path.join(root, 'bench'));
  const resultsFile = path.join(outDir, 'results.json');
  const saved = (): Results | undefined => (existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as Results) : undefined);
  const writeReport = (results: Results) => writeFileSync(path.join(outDir, 'report.md'), renderMarkdown(results.machine, results.sections, results.durationMs));

  if (opts['render-only']) {
    const results = saved();
    if (results === undefined) throw new UsageError(`--render-only: ${resultsFile} does not exist; run the bench first`);
    writeReport(results);
    console.error(`[bench] wrote report.md again from ${resultsFile}`);
    return 0;
  }

  const scratch = mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  const started = Date.now();
  const loadAtStart = os.loadavg()[0] ?? Number.NaN;
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`.padStart(6);
  const ctx: BenchContext = {
    repoRoot: root,
    reps: opts.reps,
    env: process.env,
    log: (line) => console.error(`[bench ${elapsed()}] ${line}`),
    tempDir: (prefix) => mkdtempSync(path.join(scratch, `${prefix}-`)),
  };
  const measured: SectionResult[] = [];
  try {
    for (const [i, section] of opts.sections.entries()) {
      ctx.log(`section ${i + 1}/${opts.sections.length}: ${section.title}`);
      // A section that fails is reported as failed; the others still run and their figures are kept.
      const result = await section.run(ctx).catch((error: unknown) => failedSection(section, error));
      measured.push(result);
      if (result.failed !== undefined) ctx.log(`  ${section.id} FAILED, going on with the next section: ${result.failed}`);
      for (const g of result.goals) ctx.log(`  ${g.name}: ${fmt(g.value)} (goal ${g.target}) ${g.met ? 'met' : 'NOT MET'}`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  const run: Results = { machine: machine(root, loadAtStart), durationMs: Date.now() - started, reps: opts.reps, sections: measured };
  const previous = opts.merge ? saved() : undefined;
  let results = run;
  if (previous !== undefined) {
    // The header keeps describing the saved run; each merged section says when it was measured.
    const { date, commit, node, cores, cpu, loadAverage } = run.machine;
    const sections = mergeSections(previous.sections, measured, { date, commit, node, cores, cpu, loadAverage, durationMs: run.durationMs }, SECTIONS.map((s) => s.id));
    results = { ...previous, sections };
    ctx.log(`merged ${measured.map((r) => r.id).join(', ')} into the sections of ${resultsFile}`);
  }
  mkdirSync(outDir, { recursive: true });
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  writeReport(results);
  ctx.log(`wrote ${path.relative(process.cwd(), path.join(outDir, 'report.md')) || 'report.md'} and results.json`);

  const missed = measured.flatMap((r) => r.goals.filter((g) => !g.met).map((g) => `${r.id}: ${g.name}`));
  if (missed.length > 0) ctx.log(`goals not met: ${missed.join('; ')}`);
  const failed = measured.filter((r) => r.failed !== undefined).map((r) => r.id);
  if (failed.length === 0) return 0;
  ctx.log(`sections that failed (in the report with their errors): ${failed.join(', ')}`);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    console.error(`bench: ${(error as Error).message}${usage ? `\n${USAGE}` : ''}`);
    process.exit(usage ? 2 : 1);
  },
);
