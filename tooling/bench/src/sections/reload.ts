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

import { freePorts, loadUntil, type LoadSummary } from '@conveyor/tooling-support';

import { cell, goal, type Section } from '../report';
import { interleave, sum, summarize } from '../stats';
import { privatePm2, type Pm2 } from '../support/pm2';
import { waitForHealthy } from '../support/processes';
import { failureList, packageService } from '../support/service';

/**
 * The load hits the greeting endpoint, as users would: /health answers 503
 * from a draining worker on purpose (the load balancer's signal), which is
 * not a failed user request.
 */
const RELOAD_LOAD = { connections: 16, workers: 2, settleMs: 1_000, path: '/api/greeting?name=bench' } as const;

/** One pm2 cluster under test: its app name, port and private pm2. */
type Target = { readonly name: string; readonly app: string; readonly port: number; readonly pm2: Pm2 };

export const reloadSection: Section = {
  id: 'reload',
  title: 'pm2 reload under load',
  async run(ctx) {
    const reloads = Math.max(ctx.reps, 4);
    const work = ctx.tempDir('bench-reload');
    ctx.log('reload: packaging the service');
    const appDir = path.join(await packageService(ctx, path.join(work, 'bundle'), 'bench-reload'), 'app');
    const pm2Bin = path.join(appDir, 'node_modules', 'pm2', 'bin', 'pm2');
    const [servicePort, naivePort] = (await freePorts(2)) as [number, number];
    const target = (name: string, app: string, port: number): Target => ({ name, app, port, pm2: privatePm2(pm2Bin, path.join(work, app), { PATH: ctx.env.PATH, HOME: ctx.env.HOME }) });
    const service = target('service (as shipped)', 'bench-service', servicePort);
    const naive = target('naive server.close()', 'bench-naive', naivePort);
    const targets = [service, naive];
    try {
      // The service as shipped: the bundle's own ecosystem file, as ApplicationStart runs it.
      await service.pm2.run(['start', path.join(appDir, 'ecosystem.config.js')], {
        NODE_ENV: 'production',
        SERVICE_NAME: service.app,
        PORT: String(servicePort),
        HOST: '127.0.0.1',
        PM2_INSTANCES: String(RELOAD_LOAD.workers),
        LOG_DIR: work,
        APP_ENV: 'bench',
      });
      // The baseline: the same pm2 settings, a plain Express app whose drain is server.close().
      const naiveConfig = path.join(work, 'naive.config.js');
      const log = path.join(work, 'naive.log');
      const settings = { exec_mode: 'cluster', instances: RELOAD_LOAD.workers, wait_ready: true, listen_timeout: 30_000, kill_timeout: 12_000, out_file: log, error_file: log };
      const app = { name: naive.app, script: path.join(__dirname, '..', 'load', 'targets.js'), args: ['express', String(naivePort)], ...settings };
      writeFileSync(naiveConfig, `module.exports = ${JSON.stringify({ apps: [app] })};\n`);
      await naive.pm2.run(['start', naiveConfig]);

      await Promise.all(targets.map((t) => waitForHealthy(t.port, 30_000)));
      ctx.log(`reload: both clusters serving (${RELOAD_LOAD.workers} workers each); ${reloads} reloads each, interleaved`);

      const underLoad = async (t: Target) => {
        let reloadMs = 0;
        // The load starts before the reload and runs until the reload is over
        // and the new workers have served for a moment.
        const reload = (async () => {
          await sleep(RELOAD_LOAD.settleMs);
          const started = Date.now();
          await t.pm2.run(['reload', t.app]);
          reloadMs = Date.now() - started;
          await sleep(RELOAD_LOAD.settleMs);
        })();
        const load = await loadUntil(reload, { port: t.port, path: RELOAD_LOAD.path, connections: RELOAD_LOAD.connections, maxDurationMs: 90_000, requestTimeoutMs: 5_000 });
        await reload;
        return { load, reloadMs };
      };
      const samples = await interleave(
        targets.map((t) => ({ name: t.name, run: () => underLoad(t) })),
        reloads,
        (name, i, { load, reloadMs }) => {
          const failures = failureList(load.failures);
          ctx.log(`reload: ${name} ${i + 1}/${reloads}: ${load.failed} failed of ${load.sent} (reload ${reloadMs} ms)${failures && `: ${failures}`}`);
        },
      );
      const loads = (t: Target): LoadSummary[] => samples.get(t.name)!.map((s) => s.load);
      const rows = targets.map((t) => [
        t.name,
        reloads,
        sum(loads(t).map((r) => r.sent)),
        sum(loads(t).map((r) => r.failed)),
        cell(summarize(loads(t).map((r) => r.failed))),
        cell(summarize(samples.get(t.name)!.map((s) => s.reloadMs / 1000)), 's'),
        failureList(...loads(t).map((r) => r.failures)) || 'none',
      ]);
      const serviceFailed = sum(loads(service).map((r) => r.failed));
      return {
        id: 'reload',
        title: 'pm2 reload under load',
        method: `${RELOAD_LOAD.connections} keep-alive clients sending GET ${RELOAD_LOAD.path} (node:http, no retries, 5 s request timeout; every socket error, timeout and non-2xx counts) on a ${RELOAD_LOAD.workers}-worker pm2 cluster, ${reloads} \`pm2 reload\`s per variant, interleaved; each reload is measured from ${RELOAD_LOAD.settleMs / 1000} s before it starts to ${RELOAD_LOAD.settleMs / 1000} s after it ends. Both variants use the same pm2 settings (wait_ready, listen_timeout, kill_timeout).`,
        tables: [{ columns: ['variant', 'reloads', 'requests', 'failed', 'failed per reload', 'reload time', 'failures'], rows }],
        goals: [goal('service: failed requests per reload (median)', summarize(loads(service).map((r) => r.failed)).median, '= 0')],
        notes: [
          `What closes the gap: once pm2 sends SIGINT, the service stops accepting, keeps its open keep-alive connections and answers the next request on each with \`Connection: close\` (so the client opens its next connection to a live worker), closes only sockets still idle after SHUTDOWN_IDLE_GRACE_MS, and exits when the last one is gone. Closing idle sockets any earlier (as \`server.close()\` does, or as this service did whenever nothing was in flight, until this benchmark caught it) resets the requests clients were just sending on them; pm2's \`wait_ready\` sends no traffic to a new worker before it has config and a bound port, and \`kill_timeout\` outlasts the service's own shutdown deadline. ${serviceFailed === 0 ? 'Together they gave zero failed requests here.' : `Here ${serviceFailed} requests still failed; see the failures column.`}`,
          'The baseline calls `server.close()`, which in Node 19+ also closes idle keep-alive sockets at once: a client that has just sent its next request on one sees a reset.',
        ],
        data: Object.fromEntries(targets.map((t) => [t.name, { results: loads(t), reloadMs: samples.get(t.name)!.map((s) => s.reloadMs) }])),
      };
    } finally {
      for (const t of targets) await t.pm2.kill().catch((error: unknown) => ctx.log(`reload: pm2 kill (${t.pm2.home}) failed: ${(error as Error).message}`));
    }
  },
};
