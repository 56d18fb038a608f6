// The service as the reload, switch and loop sections run it: packaged as the
// pipeline ships it, deployed by the rehearsal's CLI, and its failed requests
// as the report lists them.
import path from 'node:path';

import { createBundle } from '@conveyor/bundle';
import { freePorts } from '@conveyor/tooling-support';

import type { BenchContext } from '../report';
import { runStep, type StepOptions, type StepRun } from './run-step';

/** The built service's workspace (apps/api), found through the workspace link. */
export const apiRoot = (): string => path.dirname(require.resolve('@conveyor/api/package.json'));

/** The deployable bundle of the service (`npm run package`) in `outDir`, which it returns. */
export async function packageService(ctx: BenchContext, outDir: string, commit: string): Promise<string> {
  await createBundle({ repoRoot: ctx.repoRoot, appDir: apiRoot(), outDir, commit });
  return outDir;
}

export interface RehearsalCli {
  /** The local load balancer's port. */
  readonly port: number;
  /** One command of the CLI, e.g. `['deploy', '--bundle', dir]`, or `[]` for a whole rehearsal. */
  readonly run: (step: string, args?: readonly string[]) => Promise<StepRun>;
}

/**
 * The rehearsal's CLI, each command in a process of its own as `npm run
 * rehearse` runs it (the deployer's synchronous pm2 calls must not stall a
 * load client), on one state dir and always the same ports: a command on
 * other ports would start a second load balancer and leave the first running.
 */
export async function rehearsalCli(stateDir: string, options: StepOptions): Promise<RehearsalCli> {
  const [port, blue, green] = (await freePorts(3)) as [number, number, number];
  const cli = path.join(path.dirname(require.resolve('@conveyor/local-pipeline/package.json')), 'dist', 'cli.js');
  const fixed = ['--state-dir', stateDir, '--port', String(port), '--slot-ports', `${blue},${green}`];
  return { port, run: (step, args = []) => runStep(step, process.execPath, [cli, ...args, ...fixed], options) };
}

/** The failures of one or more load runs added up, as "ECONNRESET × 2, HTTP 502 × 1"; '' when there were none. */
export function failureList(...runs: readonly Readonly<Record<string, number>>[]): string {
  const total = new Map<string, number>();
  for (const failures of runs) for (const [reason, n] of Object.entries(failures)) total.set(reason, (total.get(reason) ?? 0) + n);
  return [...total].map(([reason, n]) => `${reason} × ${n}`).join(', ');
}
