/**
 * Section 3, the blue/green switch under load: the local rehearsal deploys
 * revisions back and forth (each deployment installs into the idle slot,
 * validates it, moves the load balancer, drains and stops the old slot) while
 * keep-alive clients send through the load balancer, counting every failure.
 */
import path from 'node:path';

import { loadUntil, type LoadSummary } from '@conveyor/tooling-support';

import { cell, goal, type Section } from '../report';
import { sum, summarize } from '../stats';
import { failureList, packageService, rehearsalCli } from '../support/service';

const SWITCH_LOAD = { connections: 16, path: '/health' } as const;

/**
 * One switch, as results.json keeps it: `toServingMs` from deploy start to the
 * new revision's first answer through the load balancer, `deployMs` to the
 * deployment's end (old slot drained and stopped).
 */
type Switch = Pick<LoadSummary, 'sent' | 'failed' | 'failures'> & { readonly from: string; readonly to: string; readonly toServingMs: number | undefined; readonly deployMs: number };

export const switchSection: Section = {
  id: 'switch',
  title: 'Blue/green switch under load (local rehearsal)',
  async run(ctx) {
    const switches = Math.max(ctx.reps, 3);
    const work = ctx.tempDir('bench-switch');
    const commits = ['bench-rev-a', 'bench-rev-b'];
    ctx.log('switch: packaging two revisions');
    const bundles = await Promise.all(commits.map((commit) => packageService(ctx, path.join(work, commit), commit)));
    const env = { PATH: ctx.env.PATH ?? '', HOME: ctx.env.HOME ?? '' };
    const rehearsal = await rehearsalCli(path.join(work, 'state'), { cwd: ctx.repoRoot, env, timeoutMs: 300_000 });
    const deploy = (to: number) => rehearsal.run(`switch: deployment of ${commits[to]}`, ['deploy', '--bundle', bundles[to]!]);

    const results: Switch[] = [];
    try {
      ctx.log(`switch: first deployment of ${commits[0]} (not measured)`);
      await deploy(0);

      for (let i = 0; i < switches; i += 1) {
        const [from, to] = [commits[i % 2]!, commits[(i + 1) % 2]!];
        const started = Date.now();
        const deployment = deploy((i + 1) % 2);
        const load = await loadUntil(deployment, { port: rehearsal.port, path: SWITCH_LOAD.path, connections: SWITCH_LOAD.connections, maxDurationMs: 180_000, requestTimeoutMs: 5_000 });
        await deployment;
        const deployMs = Date.now() - started;
        // The load started with the deployment, so first-seen times are from deploy start.
        const toServingMs = load.firstSeenMs[to];
        results.push({ from, to, toServingMs, deployMs, sent: load.sent, failed: load.failed, failures: load.failures });
        const failures = failureList(load.failures);
        ctx.log(`switch: ${from} → ${to} ${i + 1}/${switches}: ${load.failed} failed of ${load.sent}${failures && ` (${failures})`}, serving after ${toServingMs ?? '—'} ms, deployment ${deployMs} ms`);
      }
    } finally {
      await rehearsal.run('switch: stop', ['stop']).catch((error: unknown) => ctx.log(`switch: stopping the rehearsal failed: ${(error as Error).message}`));
    }

    const failed = summarize(results.map((r) => r.failed));
    const serving = summarize(results.map((r) => r.toServingMs ?? Number.NaN).filter((ms) => !Number.isNaN(ms)).map((ms) => ms / 1000));
    const total = summarize(results.map((r) => r.deployMs / 1000));
    return {
      id: 'switch',
      title: 'Blue/green switch under load (local rehearsal)',
      method: `The rehearsal's blue/green deployment (\`npm run rehearse -- deploy\`'s CLI in its own process: CodeDeploy lifecycle hooks into the idle slot's install root, 2 pm2 workers per slot, ValidateService, load balancer switch, drain, ApplicationStop of the old slot), ${switches} switches between two revisions, while ${SWITCH_LOAD.connections} keep-alive clients send GET ${SWITCH_LOAD.path} through the local load balancer (node:http, no retries; every socket error, timeout and non-2xx counts).`,
      tables: [
        {
          columns: ['switches', 'requests', 'failed', 'failed per switch', 'deploy start → new revision serving', 'whole deployment (incl. drain and stop of old slot)'],
          rows: [[switches, sum(results.map((r) => r.sent)), sum(failed.samples), cell(failed), cell(serving, 's'), cell(total, 's')]],
        },
      ],
      goals: [goal('failed requests per switch (max)', failed.max, '= 0')],
      notes: [
        'The new slot gets traffic only after its ValidateService hook has seen it answer with the new commit, and the old slot is stopped only once the load balancer reports no request in flight to it: the same order CodeDeploy follows with the target group on AWS.',
      ],
      data: { switches: results },
    };
  },
};
