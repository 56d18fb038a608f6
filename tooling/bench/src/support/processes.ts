import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls until GET `path` on 127.0.0.1 answers 200, or throws after `timeoutMs` naming what it waited for. */
export async function waitForHealthy(port: number, timeoutMs = 30_000, path = '/health'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (error) {
      // fetch says "fetch failed"; the reason (ECONNREFUSED, a timeout) is its cause.
      last = String((error as { cause?: unknown }).cause ?? error);
    }
    await sleep(100);
  }
  throw new Error(`port ${port} did not answer 200 on ${path} within ${timeoutMs} ms (last: ${last})`);
}

export interface Server {
  readonly port: number;
  readonly child: ChildProcess;
  /** Stops the process this call started (by its pid) and waits for it to exit. */
  readonly stop: () => Promise<void>;
  /** Everything the process wrote, for error messages. */
  readonly output: () => string;
}

/** Starts one server process, waits until it answers 200 on /health, and returns how to stop it. */
export async function startServer(command: string, args: readonly string[], env: NodeJS.ProcessEnv, port: number): Promise<Server> {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    await Promise.race([
      waitForHealthy(port, 30_000),
      exited.then(() => {
        throw new Error(`${command} ${args.join(' ')} exited before serving:\n${output.slice(-2_000)}`);
      }),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, child, stop, output: () => output };
}
