/**
 * Section 1, service overhead: what the service's middleware costs per request,
 * against raw node:http and bare Express 5, each a single process under the
 * same autocannon load on 127.0.0.1, on /health and on the example greeting
 * route, with a CPU profile of the service on each.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { freePort } from '@conveyor/tooling-support';
import autocannon from 'autocannon';

import { cell, goal, type Section } from '../report';
import { interleave, ratio, sum, summarize, type Summary } from '../stats';
import { summarizeProfile, type CpuProfile, type ProfileSummary, type Share } from '../support/cpu-profile';
import { startServer, type Server } from '../support/processes';
import { apiRoot } from '../support/service';

/** The same load for every variant: keep-alive connections, no pipelining, as an ALB sends. */
const LOAD = { connections: 32, pipelining: 1, durationSeconds: 5, warmupSeconds: 1 } as const;

/** The service's example route, with a valid name: the path a request takes through validation and a handler. */
const GREETING_PATH = '/api/greeting?name=bench';

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

async function measure(server: Server, urlPath = '/health'): Promise<Sample> {
  const run = (durationSeconds: number) =>
    autocannon({ url: `http://127.0.0.1:${server.port}${urlPath}`, connections: LOAD.connections, pipelining: LOAD.pipelining, duration: durationSeconds });
  // A warm-up run first (JIT, connection setup), then the measured run, with
  // the server's CPU counted over the measured run only.
  await run(LOAD.warmupSeconds);
  const cpuBefore = cpuMs(server.child.pid);
  const result = await run(LOAD.durationSeconds);
  const cpuUsPerRequest = ((cpuMs(server.child.pid) - cpuBefore) * 1000) / (result.requests.total || 1);
  return { cpuUsPerRequest, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors, non2xx: result.non2xx };
}

/**
 * One more run of the service under `node --cpu-prof`, apart from the measured
 * runs (the profiler costs CPU of its own): a warm-up and a measured load on
 * `urlPath`, then SIGTERM, at whose exit Node writes the profile.
 */
async function profileService(start: (name: string, args: string[], env?: NodeJS.ProcessEnv) => Promise<Server>, mainJs: string, env: NodeJS.ProcessEnv, dir: string, urlPath: string): Promise<ProfileSummary> {
  const server = await start(`service (createApp) under --cpu-prof, ${urlPath}`, ['--enable-source-maps', '--cpu-prof', `--cpu-prof-dir=${dir}`, mainJs], env);
  await measure(server, urlPath);
  await server.stop();
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`node --cpu-prof wrote no profile into ${dir}; the service's output:\n${server.output().slice(-1_000)}`);
  // The measured load only: the process's start and the warm-up are left out.
  return summarizeProfile(JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile, { lastMs: LOAD.durationSeconds * 1000 });
}

export const serviceSection: Section = {
  id: 'service',
  title: 'Service overhead: /health throughput',
  async run(ctx) {
    // Each run takes seconds, so this section affords more repetitions than the default.
    const reps = Math.max(ctx.reps, 5);
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
      const mainJs = path.join(apiRoot(), 'dist', 'main.js');
      const serviceEnv = { NODE_ENV: 'production', HOST: '127.0.0.1', LOG_LEVEL: 'info', APP_ENV: 'bench' };
      const service = await start('service (createApp)', ['--enable-source-maps', mainJs], serviceEnv);

      const variants = [
        { name: 'raw node:http', run: () => measure(raw) },
        { name: 'bare Express 5', run: () => measure(bare) },
        { name: 'service (createApp)', run: () => measure(service) },
        { name: 'bare Express 5, greeting', run: () => measure(bare, GREETING_PATH) },
        { name: 'service (createApp), greeting', run: () => measure(service, GREETING_PATH) },
      ];
      const samples = await interleave(variants, reps, (name, rep, s) =>
        ctx.log(`service: ${name} ${rep + 1}/${reps}: ${Math.round(s.rps)} req/s, ${s.cpuUsPerRequest.toFixed(0)} µs CPU/request, p50 ${s.p50} ms, p99 ${s.p99} ms`),
      );

      const profiles: [string, ProfileSummary][] = [];
      for (const urlPath of ['/health', GREETING_PATH]) {
        ctx.log(`service: CPU profile of the service serving ${urlPath}`);
        profiles.push([urlPath, await profileService(start, mainJs, serviceEnv, ctx.tempDir('cpu-prof-'), urlPath)]);
      }

      const stat = (name: string, key: keyof Sample): Summary => summarize(samples.get(name)!.map((s) => s[key]));
      const names = variants.map((v) => v.name);
      // Each table's ratios sit between the columns every variant shares and its failures.
      const row = (n: string, ...ratios: number[]) => [
        n,
        ...([['rps', 'req/s'], ['cpuUsPerRequest', 'µs'], ['p50', 'ms'], ['p99', 'ms']] as const).map(([key, unit]) => cell(stat(n, key), unit)),
        ...ratios.map((r) => r.toFixed(2)),
        sum(samples.get(n)!.map((s) => s.errors + s.non2xx)),
      ];
      // Throughput against a baseline, and by CPU: the baseline's CPU per request ÷ this variant's (a CPU-bound server's throughput is 1 / CPU per request).
      const byRps = (n: string, base: string) => ratio(stat(n, 'rps'), stat(base, 'rps'));
      const byCpu = (n: string, base: string) => ratio(stat(base, 'cpuUsPerRequest'), stat(n, 'cpuUsPerRequest'));
      const rows = names.slice(0, 3).map((n) => row(n, byRps(n, 'bare Express 5'), byRps(n, 'raw node:http')));
      const greetingRows = names.slice(3).map((n) => row(n, byRps(n, 'bare Express 5, greeting'), byCpu(n, 'bare Express 5, greeting')));
      const ms = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(0)} ms`);
      const shares = (list: readonly Share[]) => list.map((o) => [o.name, ms(o.ms), `${(o.share * 100).toFixed(1)} %`]);
      const profileTables = profiles.flatMap(([urlPath, p]) => [
        {
          caption: `Where the service's CPU goes serving ${urlPath}: self time by owner of the code (node --cpu-prof, the last ${LOAD.durationSeconds} s: the same load as the measured runs; ${ms(p.busyMs)} busy)`,
          columns: ['owner', 'self time', 'share of busy time'],
          rows: shares(p.owners.slice(0, 8)),
        },
        { caption: `The 10 functions with the most self time serving ${urlPath}`, columns: ['function (owner, file)', 'self time', 'share of busy time'], rows: shares(p.functions) },
      ]);
      return {
        id: 'service',
        title: 'Service overhead: /health throughput',
        method: `autocannon, ${LOAD.connections} keep-alive connections, no pipelining, ${LOAD.durationSeconds} s per run after a ${LOAD.warmupSeconds} s warm-up, ${reps} interleaved runs per variant (the server's CPU time per request, read from /proc, is the steadier figure on a shared machine); each variant is its own process on 127.0.0.1; bare Express 5 runs with its defaults (ETag, X-Powered-By), the service is the built apps/api/dist/main.js with LOG_LEVEL=info (request ids, the contract's security headers, access logs; no ETag, no X-Powered-By). The same for GET ${GREETING_PATH}, service against bare Express. Then one more run per path under \`node --cpu-prof\` (apart from the measured runs: the profiler costs CPU), summarized by who owns the code that used the CPU.`,
        tables: [
          {
            columns: ['variant', 'throughput', 'server CPU per request', 'p50 latency', 'p99 latency', '× bare Express', '× raw node:http', 'errors + non-2xx'],
            rows,
          },
          {
            caption: `GET ${GREETING_PATH}: the service's example route (query validated with zod) against bare Express answering the same path without validation`,
            columns: ['variant', 'throughput', 'server CPU per request', 'p50 latency', 'p99 latency', '× bare Express', '× bare Express by CPU per request', 'errors + non-2xx'],
            rows: greetingRows,
          },
          ...profileTables,
        ],
        goals: [
          goal('service / bare Express 5 throughput', Number(byRps('service (createApp)', 'bare Express 5').toFixed(2)), '≥ 0.9'),
          goal('service / bare Express 5 by server CPU per request (bare ÷ service)', Number(byCpu('service (createApp)', 'bare Express 5').toFixed(2)), '≥ 0.9'),
        ],
        notes: [],
        data: { ...Object.fromEntries(names.map((n) => [n, samples.get(n)!])), profiles: Object.fromEntries(profiles) },
      };
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  },
};
