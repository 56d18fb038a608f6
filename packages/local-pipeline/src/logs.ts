import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';

import { readState, type Slot } from './codedeploy/blue-green';

/** The files an instance writes that the CloudWatch agent ships on AWS, by what they hold (paths on the instance). */
const INSTANCE_FILES = (serviceName: string, logDir: string) =>
  [
    { what: 'service log', onInstance: `${logDir}/${serviceName}.log`, logGroup: 'service' },
    { what: 'hook output', onInstance: '/opt/codedeploy-agent/deployment-root', logGroup: 'codedeploy-deployments' },
  ] as const;

export interface LogsOptions {
  readonly stateDir: string;
  /** The service's name and log directory as the bundle gives them (SERVICE_NAME, LOG_DIR). */
  readonly serviceName: string;
  readonly logDir: string;
  /** Print the last `lines` lines and return; unset: follow until `signal` aborts. */
  readonly lines?: number;
  /** Stops following (Ctrl-C). */
  readonly signal?: AbortSignal;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** How often to look for new lines when following. @default 250 */
  readonly pollMs?: number;
}

/** The serving slot's service log: where each file lives, then its last lines, then (unless `lines` is given) new lines as they come. */
export async function showLogs(options: LogsOptions): Promise<number> {
  const state = readState(options.stateDir);
  const slot: Slot | undefined = state.active;
  if (slot === undefined) {
    options.err('[logs] nothing deployed: run npm run rehearse first');
    return 1;
  }
  const slotRoot = path.join(options.stateDir, 'slots', slot);
  const files = INSTANCE_FILES(options.serviceName, options.logDir);
  options.err(`[logs] slot ${slot} is serving, commit ${state.slots[slot]?.commit ?? 'unknown'}`);
  for (const file of files) {
    options.err(`[logs] ${file.what}: ${path.join(slotRoot, file.onInstance)} (on AWS: ${file.onInstance}, log group /${options.serviceName}/<environment>/${file.logGroup})`);
  }
  const serviceLog = path.join(slotRoot, files[0].onInstance);
  if (!existsSync(serviceLog)) {
    options.err(`[logs] ${serviceLog} does not exist yet`);
    return 1;
  }

  const text = readFrom(serviceLog, 0);
  const all = text.split('\n').filter((line) => line.length > 0);
  for (const line of all.slice(-(options.lines ?? 20))) options.out(line);
  if (options.lines !== undefined) return 0;

  options.err('[logs] following; Ctrl-C stops');
  let offset = Buffer.byteLength(text);
  let partial = '';
  while (!options.signal?.aborted) {
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
    const size = statSync(serviceLog).size;
    // logrotate's copytruncate (on AWS) or a new slot: start over from the top.
    if (size < offset) offset = 0;
    if (size === offset) continue;
    const chunk = partial + readFrom(serviceLog, offset);
    offset = size;
    const lines = chunk.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line.length > 0) options.out(line);
  }
  return 0;
}

function readFrom(file: string, offset: number): string {
  const size = statSync(file).size;
  if (size <= offset) return '';
  const buffer = Buffer.alloc(size - offset);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buffer, 0, buffer.length, offset);
  } finally {
    closeSync(fd);
  }
  return buffer.toString('utf8');
}
