/**
 * `npm run bench`: every performance claim of the project as a figure anyone
 * can reproduce on their own machine.
 *
 *   npm run bench                       all sections, report to <repo>/bench/
 *   npm run bench -- --only service,reload
 *   npm run bench -- --reps 5 --out /tmp/bench
 *   npm run bench -- --only loop --merge  measure one section again, keep the others' figures
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { failedSection, mergeSections, type BenchContext, type Section, type SectionResult } from './report';
import { renderMarkdown, type Machine } from './render';
import { SECTIONS } from './sections';

const USAGE = `usage: npm run bench -- [--only <ids> [--merge]] [--reps <n>] [--out <dir>] [--render-only]
  --only <ids>   comma-separated sections: ${SECTIONS.map((s) => s.id).join(', ')} (default: all)
  --reps <n>     repetitions per variant (default 3; minute-long variants use fewer and say so)
  --out <dir>    where to write report.md and results.json (default: <repo>/bench)
  --merge        with --only: keep the other sections of <out>/results.json and replace only these;
                 each one merged states its own run's date, commit and load
  --render-only  measure nothing: write report.md again from <out>/results.json (after a change to the report's layout)`;

class UsageError extends Error {}

function repoRoot(): string {
  return execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8', cwd: __dirname }).trim();
}

function machine(root: string, loadAtStart: number): Machine {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', cwd: root }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', cwd: root }).trim();
    if (dirty) commit += ' (with uncommitted changes)';
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

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      only: { type: 'string' },
      reps: { type: 'string' },
      out: { type: 'string' },
      'render-only': { type: 'boolean', default: false },
      merge: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values['render-only']) {
    const outDir = path.resolve(values.out ?? path.join(repoRoot(), 'bench'));
    const file = path.join(outDir, 'results.json');
    if (!existsSync(file)) throw new UsageError(`--render-only: ${file} does not exist; run the bench first`);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { machine: Machine; durationMs: number; sections: SectionResult[] };
    writeFileSync(path.join(outDir, 'report.md'), renderMarkdown(saved.machine, saved.sections, saved.durationMs));
    console.error(`[bench] wrote report.md again from ${file}`);
    return 0;
  }
  const reps = values.reps === undefined ? 3 : Number(values.reps);
  if (!Number.isInteger(reps) || reps < 1 || reps > 20) throw new UsageError(`--reps must be a whole number from 1 to 20, got "${values.reps}"`);
  let sections: readonly Section[] = SECTIONS;
  if (values.only !== undefined) {
    const ids = values.only.split(',').map((s) => s.trim());
    const unknown = ids.filter((id) => !SECTIONS.some((s) => s.id === id));
    if (unknown.length > 0) throw new UsageError(`--only: unknown section "${unknown.join('", "')}"; known: ${SECTIONS.map((s) => s.id).join(', ')}`);
    sections = SECTIONS.filter((s) => ids.includes(s.id));
  }
  if (values.merge && values.only === undefined) throw new UsageError('--merge replaces the sections --only names in the saved report: give --only too');

  const root = repoRoot();
  const outDir = path.resolve(values.out ?? path.join(root, 'bench'));
  const temps: string[] = [];
  const started = Date.now();
  const loadAtStart = os.loadavg()[0] ?? Number.NaN;
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`.padStart(6);
  const ctx: BenchContext = {
    repoRoot: root,
    reps,
    env: process.env,
    log: (line) => console.error(`[bench ${elapsed()}] ${line}`),
    tempDir: (prefix) => {
      const dir = mkdtempSync(path.join(os.tmpdir(), `bench-${prefix}-`));
      temps.push(dir);
      return dir;
    },
  };

  const results: SectionResult[] = [];
  try {
    for (const [i, section] of sections.entries()) {
      ctx.log(`section ${i + 1}/${sections.length}: ${section.title}`);
      // A section that fails is reported as failed; the others still run and their figures are kept.
      const result = await section.run(ctx).catch((error: unknown) => failedSection(section, error));
      results.push(result);
      if (result.failed !== undefined) ctx.log(`  ${section.id} FAILED, going on with the next section: ${result.failed}`);
      for (const g of result.goals) ctx.log(`  ${g.name}: ${g.value} (goal ${g.target}) ${g.met ? 'met' : 'NOT MET'}`);
    }
  } finally {
    for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  }

  let info = machine(root, loadAtStart);
  let durationMs = Date.now() - started;
  let written = results;
  let savedReps = reps;
  const savedFile = path.join(outDir, 'results.json');
  if (values.merge && existsSync(savedFile)) {
    // The header keeps describing the saved run; each merged section says when it was measured.
    const saved = JSON.parse(readFileSync(savedFile, 'utf8')) as { machine: Machine; durationMs: number; reps: number; sections: SectionResult[] };
    const run = { date: info.date, commit: info.commit, node: info.node, cores: info.cores, cpu: info.cpu, durationMs, loadAverage: info.loadAverage };
    written = mergeSections(saved.sections, results, run, SECTIONS.map((s) => s.id));
    ({ machine: info, durationMs, reps: savedReps } = saved);
    ctx.log(`merged ${results.map((r) => r.id).join(', ')} into the sections of ${savedFile}`);
  }
  mkdirSync(outDir, { recursive: true });
  writeFileSync(savedFile, `${JSON.stringify({ machine: info, durationMs, reps: savedReps, sections: written }, null, 2)}\n`);
  writeFileSync(path.join(outDir, 'report.md'), renderMarkdown(info, written, durationMs));
  ctx.log(`wrote ${path.relative(process.cwd(), path.join(outDir, 'report.md')) || 'report.md'} and results.json`);
  const missed = results.flatMap((r) => r.goals.filter((g) => !g.met).map((g) => `${r.id}: ${g.name}`));
  if (missed.length > 0) ctx.log(`goals not met: ${missed.join('; ')}`);
  const failed = results.filter((r) => r.failed !== undefined).map((r) => r.id);
  if (failed.length > 0) {
    ctx.log(`sections that failed (in the report with their errors): ${failed.join(', ')}`);
    return 1;
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`bench: ${(error as Error).message}\n${USAGE}`);
      process.exit(2);
    }
    console.error(`bench: ${(error as Error).message}`);
    process.exit(1);
  },
);
