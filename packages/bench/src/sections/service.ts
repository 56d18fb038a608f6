/**
 * Section 1, service overhead: what the service's middleware costs per request,
 * against raw node:http and bare Express 5, each a single process under the
 * same autocannon load on 127.0.0.1.
 */
import path from 'node:path';

import autocannon from 'autocannon';

import { cell, goal, type Section } from '../report';
import { ratio, summarize, interleave, type Summary } from '../stats';
import { freePort, startServer, type Server } from '../support/processes';

/** The same load for every variant: keep-alive connections, no pipelining, as an ALB sends. */
export const LOAD = { connections: 32, pipelining: 1, durationSeconds: 5, warmupSeconds: 1 } as const;

interface Sample {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
}

async function measure(port: number): Promise<Sample> {
  // `warmup` is in autocannon 8+ but not yet in @types/autocannon 7.
  const options: autocannon.Options & { warmup: { connections: number; duration: number } } = {
    url: `http://127.0.0.1:${port}/health`,
    connections: LOAD.connections,
    pipelining: LOAD.pipelining,
    duration: LOAD.durationSeconds,
    warmup: { connections: LOAD.connections, duration: LOAD.warmupSeconds },
  };
  const result = await autocannon(options);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors, non2xx: result.non2xx };
}

export const serviceSection: Section = {
  id: 'service',
  title: 'Service overhead: /health throughput',
  async run(ctx) {
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
        { name: 'raw node:http', run: () => measure(raw.port) },
        { name: 'bare Express 5', run: () => measure(bare.port) },
        { name: 'service (createApp)', run: () => measure(service.port) },
      ];
      const samples = await interleave(variants, ctx.reps, (name, rep, s) =>
        ctx.log(`service: ${name} ${rep + 1}/${ctx.reps}: ${Math.round(s.rps)} req/s, p50 ${s.p50} ms, p99 ${s.p99} ms`),
      );

      const stat = (name: string, key: keyof Sample): Summary => summarize(samples.get(name)!.map((s) => s[key]));
      const names = variants.map((v) => v.name);
      const rps = Object.fromEntries(names.map((n) => [n, stat(n, 'rps')]));
      const rows = names.map((n) => [
        n,
        cell(stat(n, 'rps'), 'req/s'),
        cell(stat(n, 'p50'), 'ms'),
        cell(stat(n, 'p99'), 'ms'),
        ratio(stat(n, 'rps'), rps['bare Express 5']!).toFixed(2),
        ratio(stat(n, 'rps'), rps['raw node:http']!).toFixed(2),
        samples.get(n)!.reduce((a, s) => a + s.errors + s.non2xx, 0),
      ]);
      const vsExpress = ratio(rps['service (createApp)']!, rps['bare Express 5']!);
      return {
        id: 'service',
        title: 'Service overhead: /health throughput',
        method: `autocannon, ${LOAD.connections} keep-alive connections, no pipelining, ${LOAD.durationSeconds} s per run after a ${LOAD.warmupSeconds} s warm-up, ${ctx.reps} interleaved runs per variant; each variant is its own process on 127.0.0.1, the service is the built apps/api/dist/main.js with LOG_LEVEL=info.`,
        tables: [
          {
            columns: ['variant', 'throughput', 'p50 latency', 'p99 latency', '× bare Express', '× raw node:http', 'errors + non-2xx'],
            rows,
          },
        ],
        goals: [goal('service / bare Express 5 throughput', Number(vsExpress.toFixed(2)), '≥ 0.8')],
        notes: [],
        data: Object.fromEntries(names.map((n) => [n, samples.get(n)!])),
      };
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  },
};
