import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface Pm2 {
  readonly home: string;
  /** Runs one pm2 command; its output (and the daemon's, which inherits it) goes to a file, never a pipe. */
  readonly run: (args: readonly string[], env?: NodeJS.ProcessEnv) => Promise<void>;
  /** `pm2 kill` of this PM2_HOME only: ends the daemon and the workers this pm2 started, nothing else. */
  readonly kill: () => Promise<void>;
}

/**
 * A pm2 with its own PM2_HOME, driven the way the hooks drive it. pm2's
 * daemon inherits the stdio of the command that spawned it, so every command
 * writes to a log file: a pipe would stay open for the daemon's lifetime.
 */
export function privatePm2(pm2Bin: string, home: string, baseEnv: NodeJS.ProcessEnv, timeoutMs = 60_000): Pm2 {
  mkdirSync(home, { recursive: true });
  const logFile = path.join(home, 'commands.log');
  const run = (args: readonly string[], env: NodeJS.ProcessEnv = {}) =>
    new Promise<void>((resolve, reject) => {
      const fd = openSync(logFile, 'a');
      const child = spawn(process.execPath, [pm2Bin, ...args], { env: { ...baseEnv, ...env, PM2_HOME: home }, stdio: ['ignore', fd, fd] });
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        closeSync(fd);
        if (code === 0) return resolve();
        const tail = readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
        reject(new Error(`pm2 ${args.join(' ')} failed (${signal ? `killed after ${timeoutMs} ms` : `exit ${code}`}):\n${tail}`));
      });
    });
  return { home, run, kill: async () => (existsSync(path.join(home, 'pm2.pid')) ? run(['kill']) : undefined) };
}
