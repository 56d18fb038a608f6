import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';

import { freePort } from '@conveyor/tooling-support';

const FIXTURE = path.join(__dirname, 'fixtures', 'service-with-test-routes.cjs');

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** Every JSON line the process has logged so far. */
  readonly logs: Record<string, unknown>[];
  /** Resolves with the first log line whose msg matches. */
  waitForLog(msg: string | RegExp): Promise<Record<string, unknown>>;
  /** Resolves when pm2's 'ready' message arrives over IPC. */
  readonly ready: Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True once 'ready' was received. */
  readonly wasReady: () => boolean;
}

/** Starts the real service as a child process with an IPC channel, as pm2 does. */
export async function startService(env: Record<string, string> = {}): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [FIXTURE], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const logs: Record<string, unknown>[] = [];
  const waiters: { match: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }[] = [];
  let buffer = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const text = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (!text.trim()) continue;
      const line = JSON.parse(text) as Record<string, unknown>;
      logs.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.match(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => logs.push({ stderr: chunk.toString() }));

  let ready = false;
  const readyPromise = new Promise<void>((resolve, reject) => {
    child.on('message', (message) => {
      if (message === 'ready') {
        ready = true;
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`service exited with ${code} before it was ready: ${JSON.stringify(logs)}`)));
  });
  readyPromise.catch(() => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });

  const waitForLog = (msg: string | RegExp) => {
    const match = (line: Record<string, unknown>) => (typeof msg === 'string' ? line.msg === msg : msg.test(String(line.msg)));
    const seen = logs.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<Record<string, unknown>>((resolve) => waiters.push({ match, resolve }));
  };

  return { child, port, logs, waitForLog, ready: readyPromise, exited, wasReady: () => ready };
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One GET on 127.0.0.1, optionally through a keep-alive agent. Rejects on socket errors. */
export function get(port: number, urlPath: string, agent?: http.Agent): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** Ends the child if a test left it running (only ever the process this test started). */
export function cleanup(service: ServiceProcess | undefined): void {
  if (service && service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
}
