/**
 * Section 2, pm2 reload under load: a 2-worker cluster reloaded several times
 * while keep-alive clients hammer it, counting every failed request. The
 * service as shipped runs beside the drain most tutorials show
 * (`server.close()` on SIGINT), reloads interleaved, so the report shows what
 * the service's drain is worth.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { createBundle } from '@conveyor/bundle';
import { freePort, loadUntil, type LoadSummary } from '@conveyor/tooling-support';

import { cell, goal, type Section } from '../report';
import { summarize } from '../stats';
import { privatePm2, type Pm2 } from '../support/pm2';
import { waitForHealthy } from '../support/processes';

/**
 * The load hits the greeting endpoint, as users would: /health answers 503
 * from a draining worker on purpose (the load balancer's signal), which is
 * not a failed user request.
 */
export const RELOAD_LOAD = { connections: 16, workers: 2, settleMs: 1_000, path: '/api/greeting?name=bench' } as const;

interface Target {
  readonly name: string;
  readonly app: string;
  readonly port: number;
  readonly pm2: Pm2;
}

export const reloadSection: Section = {
  id: 'reload',
  title: 'pm2 reload under load',
  async run(ctx) {
    const reloads = Math.max(ctx.reps, 4);
    const work = ctx.tempDir('bench-reload');
    const apiRoot = path.dirname(require.resolve('@conveyor/api/package.json'));
    ctx.log('reload: packaging the service');
    const bundle = path.join(work, 'bundle');
    await createBundle({ repoRoot: ctx.repoRoot, appDir: apiRoot, outDir: bundle, commit: 'bench-reload' });
    const appDir = path.join(bundle, 'app');
    const pm2Bin = path.join(appDir, 'node_modules', 'pm2', 'bin', 'pm2');
    const baseEnv = { PATH: ctx.env.PATH, HOME: ctx.env.HOME };

    const targets: Target[] = [];
    try {
      // The service as shipped: the bundle's own ecosystem file, as ApplicationStart runs it.
      const servicePort = await freePort();
      const service: Target = { name: 'service (as shipped)', app: 'bench-service', port: servicePort, pm2: privatePm2(pm2Bin, path.join(work, 'pm2-service'), baseEnv) };
      targets.push(service);
      await service.pm2.run(['start', path.join(appDir, 'ecosystem.config.js')], {
        NODE_ENV: 'production',
        SERVICE_NAME: service.app,
        PORT: String(servicePort),
        HOST: '127.0.0.1',
        PM2_INSTANCES: String(RELOAD_LOAD.workers),
        LOG_DIR: work,
        APP_ENV: 'bench',
      });

      // The baseline: same pm2 settings, a plain Express app whose drain is server.close().
      const naivePort = await freePort();
      const naive: Target = { name: 'naive server.close()', app: 'bench-naive', port: naivePort, pm2: privatePm2(pm2Bin, path.join(work, 'pm2-naive'), baseEnv) };
      targets.push(naive);
      const naiveConfig = path.join(work, 'naive.config.js');
      writeFileSync(
        naiveConfig,
        `module.exports = ${JSON.stringify({
          apps: [
            {
              name: naive.app,
              script: path.join(__dirname, '..', 'load', 'naive-service.js'),
              args: [String(naivePort)],
              exec_mode: 'cluster',
              instances: RELOAD_LOAD.workers,
              wait_ready: true,
              listen_timeout: 30_000,
              kill_timeout: 12_000,
              out_file: path.join(work, 'naive.log'),
              error_file: path.join(work, 'naive.log'),
            },
          ],
        })};\n`,
      );
      await naive.pm2.run(['start', naiveConfig]);

      await Promise.all(targets.map((t) => waitForHealthy(t.port, 30_000)));
      ctx.log(`reload: both clusters serving (${RELOAD_LOAD.workers} workers each); ${reloads} reloads each, interleaved`);

      const results = new Map<string, LoadSummary[]>(targets.map((t) => [t.name, []]));
      const durations = new Map<string, number[]>(targets.map((t) => [t.name, []]));
      for (let i = 0; i < reloads; i += 1) {
        for (const target of i % 2 === 0 ? targets : [...targets].reverse()) {
          const started = Date.now();
          // The load starts before the reload and runs until the reload is
          // over and the new workers have served for a moment.
          const reload = (async () => {
            await sleep(RELOAD_LOAD.settleMs);
            const t0 = Date.now();
            await target.pm2.run(['reload', target.app]);
            durations.get(target.name)!.push(Date.now() - t0);
            await sleep(RELOAD_LOAD.settleMs);
          })();
          const result = await loadUntil(reload, { port: target.port, path: RELOAD_LOAD.path, connections: RELOAD_LOAD.connections, maxDurationMs: 90_000, requestTimeoutMs: 5_000 });
          await reload;
          results.get(target.name)!.push(result);
          ctx.log(`reload: ${target.name} ${i + 1}/${reloads}: ${result.failed} failed of ${result.sent} (${Date.now() - started} ms)${describe(result.failures)}`);
        }
      }

      const rows = targets.map((t) => {
        const rs = results.get(t.name)!;
        const failed = summarize(rs.map((r) => r.failed));
        return [
          t.name,
          reloads,
          rs.reduce((a, r) => a + r.sent, 0),
          rs.reduce((a, r) => a + r.failed, 0),
          cell(failed),
          cell(summarize(durations.get(t.name)!.map((ms) => ms / 1000)), 's'),
          describe(merge(rs.map((r) => r.failures))).replace(/^: /, '') || 'none',
        ];
      });
      const serviceFailed = results.get(service.name)!.reduce((a, r) => a + r.failed, 0);
      return {
        id: 'reload',
        title: 'pm2 reload under load',
        method: `${RELOAD_LOAD.connections} keep-alive clients sending GET ${RELOAD_LOAD.path} (node:http, no retries, 5 s request timeout; every socket error, timeout and non-2xx counts) on a ${RELOAD_LOAD.workers}-worker pm2 cluster, ${reloads} \`pm2 reload\`s per variant, interleaved; each reload is measured from ${RELOAD_LOAD.settleMs / 1000} s before it starts to ${RELOAD_LOAD.settleMs / 1000} s after it ends. Both variants use the same pm2 settings (wait_ready, listen_timeout, kill_timeout).`,
        tables: [{ columns: ['variant', 'reloads', 'requests', 'failed', 'failed per reload', 'reload time', 'failures'], rows }],
        goals: [goal('service: failed requests per reload (median)', summarize(results.get(service.name)!.map((r) => r.failed)).median, '= 0')],
        notes: [
          `What closes the gap: once pm2 sends SIGINT, the service stops accepting, keeps its open keep-alive connections and answers the next request on each with \`Connection: close\` (so the client opens its next connection to a live worker), closes only sockets still idle after SHUTDOWN_IDLE_GRACE_MS, and exits when the last one is gone. Closing idle sockets any earlier (as \`server.close()\` does, or as this service did whenever nothing was in flight, until this benchmark caught it) resets the requests clients were just sending on them; pm2's \`wait_ready\` sends no traffic to a new worker before it has config and a bound port, and \`kill_timeout\` outlasts the service's own shutdown deadline. ${serviceFailed === 0 ? 'Together they gave zero failed requests here.' : `Here ${serviceFailed} requests still failed; see the failures column.`}`,
          'The baseline calls `server.close()`, which in Node 19+ also closes idle keep-alive sockets at once: a client that has just sent its next request on one sees a reset.',
        ],
        data: Object.fromEntries(targets.map((t) => [t.name, { results: results.get(t.name)!, reloadMs: durations.get(t.name)! }])),
      };
    } finally {
      for (const t of targets) await t.pm2.kill().catch((error: unknown) => ctx.log(`reload: pm2 kill (${t.pm2.home}) failed: ${(error as Error).message}`));
    }
  },
};

function merge(all: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const one of all) for (const [k, v] of Object.entries(one)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function describe(failures: Readonly<Record<string, number>>): string {
  const parts = Object.entries(failures).map(([k, v]) => `${k} × ${v}`);
  return parts.length ? `: ${parts.join(', ')}` : '';
}
