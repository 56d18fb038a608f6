// What the deployment drills share: a rehearsal of their own (a state folder,
// free ports) with version 1 deployed on slot blue by the CLI as a user runs
// it, ready for the drill to deploy the release under test to slot green.
import { rmSync } from 'node:fs';
import path from 'node:path';

import { freeRehearsalPorts, makeBundle, rehearsalCli, tempDir, type CliRun, type RehearsalPorts } from '../../codedeploy/__tests__/fixtures';

export interface DrillRehearsal {
  /** The drill's temporary folder: bundles, the state folder, anything else it needs. */
  readonly work: string;
  readonly stateDir: string;
  readonly ports: RehearsalPorts;
  /** Version 1's bundle, to derive the release under test from. */
  readonly firstBundle: string;
  /** The rehearsal CLI (deploy only: the bundles are prebuilt), bounded in time. */
  cli(args: readonly string[], env?: Readonly<Record<string, string>>): Promise<CliRun>;
  /** Stops the rehearsal, then removes its folder; `beforeRemove` runs in between (unmounting, say). */
  stop(beforeRemove?: () => void): Promise<void>;
}

/** A rehearsal serving version 1 (commit rev-1) on slot blue, with `workers` pm2 workers per slot. */
export async function rehearsalServingVersion1(name: string, workers: number): Promise<DrillRehearsal> {
  const work = tempDir(name);
  const stateDir = path.join(work, 'state');
  const ports = await freeRehearsalPorts();
  const cli = rehearsalCli(stateDir, ports, workers);
  const firstBundle = await makeBundle(work, 'rev-1');
  const rehearsal: DrillRehearsal = {
    work,
    stateDir,
    ports,
    firstBundle,
    cli,
    async stop(beforeRemove) {
      await cli(['stop']);
      beforeRemove?.();
      rmSync(work, { recursive: true, force: true });
    },
  };
  const first = await cli(['deploy', '--bundle', firstBundle]);
  if (first.code !== 0) {
    await rehearsal.stop();
    throw new Error(`the first deployment failed:\n${first.stderr}`);
  }
  return rehearsal;
}
