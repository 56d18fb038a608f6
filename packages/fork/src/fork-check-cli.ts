/**
 * `npm run fork-check [-- --keep]`: makes a throwaway fork of this checkout's
 * HEAD with `npm run rename` and another deploy config, runs install, lint,
 * typecheck, test, synth and a rehearsal there, and fails on any leftover of
 * the old names. CI runs it beside the main job and the workshop (.ci/run).
 */
import { parseArgs } from 'node:util';

import { forkCheck } from './fork-check';
import { repoRoot } from './repo';

// Ctrl-C, or CI ending the check when another step failed, signals the whole
// process group: the step's command ends with it, and the check stays alive
// for its own clean-up (the fork's rehearsal stopped, the fork removed). A
// second signal ends it at once.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => console.error(`[fork-check] ${signal}: stopping the fork's rehearsal and removing the fork`));
}

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: { keep: { type: 'boolean', default: false } }, strict: true });
  const started = Date.now();
  const result = await forkCheck({ root: repoRoot(process.cwd()), keep: values.keep, log: (line) => console.error(line) });
  console.log('fork check, seconds per step:');
  for (const { step, seconds } of result.timings) console.log(`  ${seconds.toFixed(1).padStart(7)}  ${step}`);
  console.log(`  ${((Date.now() - started) / 1000).toFixed(1).padStart(7)}  total`);
  for (const line of result.leftovers.slice(0, 50)) console.log(`  leftover: ${line}`);
  if (result.leftovers.length > 50) console.log(`  ... and ${result.leftovers.length - 50} more`);
  console.log(result.passed ? 'fork check passed' : `fork check FAILED: ${result.failure ?? 'unknown'}`);
  return result.passed ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`fork-check: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
