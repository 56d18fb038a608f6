/**
 * Section 3, the blue/green switch under load: the local rehearsal deploys
 * revisions back and forth (each deployment installs into the idle slot,
 * validates it, moves the load balancer, drains and stops the old slot) while
 * keep-alive clients send through the load balancer, counting every failure.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

import { createBundle } from '@conveyor/bundle';
import { freePorts, loadUntil, type LoadSummary } from '@conveyor/tooling-support';

import { cell, goal, type Section } from '../report';
import { summarize } from '../stats';

export const SWITCH_LOAD = { connections: 16, path: '/health' } as const;

interface Switch {
  readonly from: string;
  readonly to: string;
  readonly load: LoadSummary;
  /** Deploy start to the first answer from the new revision through the load balancer. */
  readonly toServingMs: number | undefined;
  /** Deploy start to the deployment's end (old slot drained and stopped). */
  readonly deployMs: number;
  readonly succeeded: boolean;
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
    const cli = path.join(path.dirname(require.resolve('@conveyor/local-pipeline/package.json')), 'dist', 'cli.js');
    const rehearse = (args: readonly string[]) =>
      new Promise<{ succeeded: boolean; output: string }>((resolve) => {
        const child = spawn(process.execPath, [cli, ...args, '--state-dir', stateDir, '--port', String(proxyPort), '--slot-ports', `${slotPorts.blue},${slotPorts.green}`], {
          cwd: ctx.repoRoot,
          env: { PATH: ctx.env.PATH, HOME: ctx.env.HOME },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8_000));
        child.stdout.on('data', keep);
        child.stderr.on('data', keep);
        const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ succeeded: code === 0, output });
        });
      });
    const deploy = (bundleDir: string) => rehearse(['deploy', '--bundle', bundleDir]);

    const results: Switch[] = [];
    try {
      ctx.log(`switch: first deployment of ${commits[0]} (not measured)`);
      const first = await deploy(bundles[0]!);
      if (!first.succeeded) throw new Error(`switch: the first deployment failed:\n${tail(first.output)}`);

      for (let i = 0; i < switches; i += 1) {
        const from = commits[i % 2]!;
        const to = commits[(i + 1) % 2]!;
        const started = Date.now();
        const deployment = deploy(bundles[(i + 1) % 2]!);
        const load = await loadUntil(deployment, { port: proxyPort, path: SWITCH_LOAD.path, connections: SWITCH_LOAD.connections, maxDurationMs: 180_000, requestTimeoutMs: 5_000 });
        const result = await deployment;
        const deployMs = Date.now() - started;
        // The load started with the deployment, so first-seen times are from deploy start.
        const toServingMs = load.firstSeenMs[to];
        results.push({ from, to, load, toServingMs, deployMs, succeeded: result.succeeded });
        ctx.log(
          `switch: ${from} → ${to} ${i + 1}/${switches}: ${result.succeeded ? 'succeeded' : 'FAILED'}, ${load.failed} failed of ${load.sent}${Object.keys(load.failures).length ? ` (${Object.entries(load.failures).map(([k, v]) => `${k} × ${v}`).join(', ')})` : ''}, serving after ${toServingMs ?? '—'} ms, deployment ${deployMs} ms`,
        );
        if (!result.succeeded) throw new Error(`switch: deployment of ${to} failed:\n${tail(result.output)}`);
      }
    } finally {
      const stopped = await rehearse(['stop']);
      if (!stopped.succeeded) ctx.log(`switch: stopping the rehearsal failed:\n${tail(stopped.output)}`);
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

function tail(output: string): string {
  return output.trimEnd().split('\n').slice(-20).join('\n');
}
