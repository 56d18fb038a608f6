/**
 * Section 3, the blue/green switch under load: the local rehearsal deploys
 * revisions back and forth (each deployment installs into the idle slot,
 * validates it, moves the load balancer, drains and stops the old slot) while
 * keep-alive clients send through the load balancer, counting every failure.
 */
import path from 'node:path';

import { createBundle } from '@conveyor/bundle';
import { freePorts, loadUntil, type LoadSummary } from '@conveyor/tooling-support';

import { cell, goal, type Section } from '../report';
import { summarize } from '../stats';
import { runStep } from '../support/run-step';

export const SWITCH_LOAD = { connections: 16, path: '/health' } as const;

interface Switch {
  readonly from: string;
  readonly to: string;
  readonly load: LoadSummary;
  /** Deploy start to the first answer from the new revision through the load balancer. */
  readonly toServingMs: number | undefined;
  /** Deploy start to the deployment's end (old slot drained and stopped). */
  readonly deployMs: number;
}

export const switchSection: Section = {
  id: 'switch',
  title: 'Blue/green switch under load (local rehearsal)',
  async run(ctx) {
    const switches = Math.max(ctx.reps, 3);
    const work = ctx.tempDir('bench-switch');
    const apiRoot = path.dirname(require.resolve('@conveyor/api/package.json'));
    const commits = ['bench-rev-a', 'bench-rev-b'];
    ctx.log('switch: packaging two revisions');
    const bundles = await Promise.all(
      commits.map(async (commit) => {
        const outDir = path.join(work, commit);
        await createBundle({ repoRoot: ctx.repoRoot, appDir: apiRoot, outDir, commit });
        return outDir;
      }),
    );
    const stateDir = path.join(work, 'state');
    const [proxyPort, blue, green] = (await freePorts(3)) as [number, number, number];
    const slotPorts = { blue, green };
    // The rehearsal CLI in its own process, exactly as `npm run rehearse -- deploy`
    // runs it: the deployer's synchronous pm2 calls must not stall the load client.
    // A failed command rejects with the end of its output.
    const cli = path.join(path.dirname(require.resolve('@conveyor/local-pipeline/package.json')), 'dist', 'cli.js');
    const env = { PATH: ctx.env.PATH ?? '', HOME: ctx.env.HOME ?? '' };
    const rehearse = (step: string, args: readonly string[]) =>
      runStep(`switch: ${step}`, process.execPath, [cli, ...args, '--state-dir', stateDir, '--port', String(proxyPort), '--slot-ports', `${slotPorts.blue},${slotPorts.green}`], {
        cwd: ctx.repoRoot,
        env,
        timeoutMs: 300_000,
      });
    const deploy = (step: string, bundleDir: string) => rehearse(step, ['deploy', '--bundle', bundleDir]);

    const results: Switch[] = [];
    try {
      ctx.log(`switch: first deployment of ${commits[0]} (not measured)`);
      await deploy('the first deployment', bundles[0]!);

      for (let i = 0; i < switches; i += 1) {
        const from = commits[i % 2]!;
        const to = commits[(i + 1) % 2]!;
        const started = Date.now();
        const deployment = deploy(`deployment of ${to}`, bundles[(i + 1) % 2]!);
        const load = await loadUntil(deployment, { port: proxyPort, path: SWITCH_LOAD.path, connections: SWITCH_LOAD.connections, maxDurationMs: 180_000, requestTimeoutMs: 5_000 });
        await deployment;
        const deployMs = Date.now() - started;
        // The load started with the deployment, so first-seen times are from deploy start.
        const toServingMs = load.firstSeenMs[to];
        results.push({ from, to, load, toServingMs, deployMs });
        const failures = Object.entries(load.failures).map(([k, v]) => `${k} × ${v}`);
        ctx.log(
          `switch: ${from} → ${to} ${i + 1}/${switches}: ${load.failed} failed of ${load.sent}${failures.length ? ` (${failures.join(', ')})` : ''}, serving after ${toServingMs ?? '—'} ms, deployment ${deployMs} ms`,
        );
      }
    } finally {
      await rehearse('stop', ['stop']).catch((error: unknown) => ctx.log(`switch: stopping the rehearsal failed: ${(error as Error).message}`));
    }

    const failed = summarize(results.map((r) => r.load.failed));
    const serving = summarize(results.map((r) => r.toServingMs ?? Number.NaN).filter((ms) => !Number.isNaN(ms)).map((ms) => ms / 1000));
    const total = summarize(results.map((r) => r.deployMs / 1000));
    return {
      id: 'switch',
      title: 'Blue/green switch under load (local rehearsal)',
      method: `The rehearsal's blue/green deployment (\`npm run rehearse -- deploy\`'s CLI in its own process: CodeDeploy lifecycle hooks into the idle slot's install root, 2 pm2 workers per slot, ValidateService, load balancer switch, drain, ApplicationStop of the old slot), ${switches} switches between two revisions, while ${SWITCH_LOAD.connections} keep-alive clients send GET ${SWITCH_LOAD.path} through the local load balancer (node:http, no retries; every socket error, timeout and non-2xx counts).`,
      tables: [
        {
          columns: ['switches', 'requests', 'failed', 'failed per switch', 'deploy start → new revision serving', 'whole deployment (incl. drain and stop of old slot)'],
          rows: [[switches, results.reduce((a, r) => a + r.load.sent, 0), results.reduce((a, r) => a + r.load.failed, 0), cell(failed), cell(serving, 's'), cell(total, 's')]],
        },
      ],
      goals: [goal('failed requests per switch (max)', failed.max, '= 0')],
      notes: [
        'The new slot gets traffic only after its ValidateService hook has seen it answer with the new commit, and the old slot is stopped only once the load balancer reports no request in flight to it: the same order CodeDeploy follows with the target group on AWS.',
      ],
      data: { switches: results.map((r) => ({ from: r.from, to: r.to, toServingMs: r.toServingMs, deployMs: r.deployMs, sent: r.load.sent, failed: r.load.failed, failures: r.load.failures })) },
    };
  },
};
