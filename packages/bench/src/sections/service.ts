/**
 * Section 1, service overhead: what the service's middleware costs per request,
 * against raw node:http and bare Express 5, each a single process under the
 * same autocannon load on 127.0.0.1.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import autocannon from 'autocannon';

import { cell, goal, type Section } from '../report';
import { ratio, summarize, interleave, type Summary } from '../stats';
import { freePort, startServer, type Server } from '../support/processes';

/** The same load for every variant: keep-alive connections, no pipelining, as an ALB sends. */
export const LOAD = { connections: 32, pipelining: 1, durationSeconds: 5, warmupSeconds: 1 } as const;

interface Sample {
  /** The server process's CPU time (user + system) per request, in µs: steadier than throughput on a shared machine. */
  readonly cpuUsPerRequest: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
}

/** CPU time a process has used so far, in ms, from /proc (Linux); NaN elsewhere. */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

async function measure(server: Server): Promise<Sample> {
  const run = (durationSeconds: number) =>
    autocannon({ url: `http://127.0.0.1:${server.port}/health`, connections: LOAD.connections, pipelining: LOAD.pipelining, duration: durationSeconds });
  // A warm-up run first (JIT, connection setup), then the measured run, with
  // the server's CPU counted over the measured run only.
  await run(LOAD.warmupSeconds);
  const cpuBefore = cpuMs(server.child.pid);
  const result = await run(LOAD.durationSeconds);
  const cpuUsPerRequest = ((cpuMs(server.child.pid) - cpuBefore) * 1000) / (result.requests.total || 1);
  return { cpuUsPerRequest, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors, non2xx: result.non2xx };
}

export const serviceSection: Section = {
  id: 'service',
  title: 'Service overhead: /health throughput',
  async run(ctx) {
    // Each run takes seconds, so this section affords more repetitions than the default.
    const reps = Math.max(ctx.reps, 5);
    const apiRoot = path.dirname(require.resolve('@conveyor/api/package.json'));
    const targets = path.join(__dirname, '..', 'load', 'targets.js');
    const servers: Server[] = [];
    try {
      const start = async (name: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
        const port = await freePort();
        const fullArgs = args.map((a) => (a === '{port}' ? String(port) : a));
        const server = await startServer(process.execPath, fullArgs, { PATH: ctx.env.PATH, HOME: ctx.env.HOME, ...env, PORT: String(port) }, port);
        servers.push(server);
        ctx.log(`service: ${name} serving on 127.0.0.1:${port}`);
        return server;
      };
      const raw = await start('raw node:http', [targets, 'raw', '{port}']);
      const bare = await start('bare Express 5', [targets, 'express', '{port}']);
      // The real service, started the way pm2 starts it (dist/main.js, config
      // from the environment, JSON logs at info), minus pm2 itself.
      const service = await start('service (createApp)', ['--enable-source-maps', path.join(apiRoot, 'dist', 'main.js')], {
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        APP_ENV: 'bench',
      });

      const variants = [
        { name: 'raw node:http', run: () => measure(raw) },
        { name: 'bare Express 5', run: () => measure(bare) },
        { name: 'service (createApp)', run: () => measure(service) },
      ];
      const samples = await interleave(variants, reps, (name, rep, s) =>
        ctx.log(`service: ${name} ${rep + 1}/${reps}: ${Math.round(s.rps)} req/s, ${s.cpuUsPerRequest.toFixed(0)} µs CPU/request, p50 ${s.p50} ms, p99 ${s.p99} ms`),
      );

      const stat = (name: string, key: keyof Sample): Summary => summarize(samples.get(name)!.map((s) => s[key]));
      const names = variants.map((v) => v.name);
      const rps = Object.fromEntries(names.map((n) => [n, stat(n, 'rps')]));
      const rows = names.map((n) => [
        n,
        cell(stat(n, 'rps'), 'req/s'),
        cell(stat(n, 'cpuUsPerRequest'), 'µs'),
        cell(stat(n, 'p50'), 'ms'),
        cell(stat(n, 'p99'), 'ms'),
        ratio(stat(n, 'rps'), rps['bare Express 5']!).toFixed(2),
        ratio(stat(n, 'rps'), rps['raw node:http']!).toFixed(2),
        samples.get(n)!.reduce((a, s) => a + s.errors + s.non2xx, 0),
      ]);
      const vsExpress = ratio(rps['service (createApp)']!, rps['bare Express 5']!);
      // Throughput a CPU-bound server could reach is 1 / CPU per request.
      const cpuVsExpress = ratio(stat('bare Express 5', 'cpuUsPerRequest'), stat('service (createApp)', 'cpuUsPerRequest'));
      return {
        id: 'service',
        title: 'Service overhead: /health throughput',
        method: `autocannon, ${LOAD.connections} keep-alive connections, no pipelining, ${LOAD.durationSeconds} s per run after a ${LOAD.warmupSeconds} s warm-up, ${reps} interleaved runs per variant (the server's CPU time per request, read from /proc, is the steadier figure on a shared machine); each variant is its own process on 127.0.0.1, the service is the built apps/api/dist/main.js with LOG_LEVEL=info.`,
        tables: [
          {
            columns: ['variant', 'throughput', 'server CPU per request', 'p50 latency', 'p99 latency', '× bare Express', '× raw node:http', 'errors + non-2xx'],
            rows,
          },
        ],
        goals: [
          goal('service / bare Express 5 throughput', Number(vsExpress.toFixed(2)), '≥ 0.8'),
          goal('service / bare Express 5 by server CPU per request (bare ÷ service)', Number(cpuVsExpress.toFixed(2)), '≥ 0.8'),
        ],
        notes: [],
        data: Object.fromEntries(names.map((n) => [n, samples.get(n)!])),
      };
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  },
};
