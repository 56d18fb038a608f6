import { readFileSync } from 'node:fs';

import { parse } from 'yaml';

/** The lifecycle events CodeDeploy runs on an EC2 instance, in order (in-place, and the green side of blue/green). */
export const INSTALL_EVENTS = ['ApplicationStop', 'DownloadBundle', 'BeforeInstall', 'Install', 'AfterInstall', 'ApplicationStart', 'ValidateService'] as const;

/** Events around the traffic switch (with a load balancer), in order. */
export const TRAFFIC_EVENTS = ['BeforeBlockTraffic', 'BlockTraffic', 'AfterBlockTraffic', 'BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic'] as const;

/** Events that run scripts (DownloadBundle, Install, BlockTraffic and AllowTraffic are the agent's own). */
const SCRIPTABLE_EVENTS = new Set<string>([
  'ApplicationStop', 'BeforeInstall', 'AfterInstall', 'ApplicationStart', 'ValidateService',
  'BeforeBlockTraffic', 'AfterBlockTraffic', 'BeforeAllowTraffic', 'AfterAllowTraffic',
]);

/** CodeDeploy's limit for all scripts of one lifecycle event together. */
export const MAX_EVENT_TIMEOUT_SECONDS = 3600;

export interface HookScript {
  /** Path of the script relative to the revision root. */
  readonly location: string;
  readonly timeoutSeconds: number;
  readonly runas: string | undefined;
}

export interface AppSpec {
  readonly files: readonly { readonly source: string; readonly destination: string }[];
  readonly fileExistsBehavior: 'DISALLOW' | 'OVERWRITE' | 'RETAIN';
  readonly permissions: readonly { readonly object: string; readonly owner?: string; readonly group?: string; readonly mode?: string }[];
  readonly hooks: Readonly<Record<string, readonly HookScript[]>>;
}

export class AppSpecError extends Error {
  constructor(message: string) {
    super(`appspec.yml: ${message}`);
    this.name = 'AppSpecError';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses an EC2/on-premises AppSpec file with CodeDeploy's rules, rejecting
 * what the agent would reject, each error naming the key.
 * https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure.html
 */
export function parseAppSpec(text: string): AppSpec {
  const doc: unknown = parse(text);
  if (!isRecord(doc)) throw new AppSpecError('the file is not a YAML mapping');
  if (String(doc.version) !== '0' && String(doc.version) !== '0.0') throw new AppSpecError('version must be 0.0');
  if (doc.os !== 'linux') throw new AppSpecError(`os must be linux (got ${JSON.stringify(doc.os)})`);

  const files = (Array.isArray(doc.files) ? doc.files : []).map((entry: unknown, i) => {
    if (!isRecord(entry) || typeof entry.source !== 'string' || typeof entry.destination !== 'string') {
      throw new AppSpecError(`files[${i}] needs a source and a destination`);
    }
    if (!entry.destination.startsWith('/')) throw new AppSpecError(`files[${i}].destination must be an absolute path`);
    return { source: entry.source, destination: entry.destination };
  });

  const behavior = doc.file_exists_behavior ?? 'DISALLOW';
  if (behavior !== 'DISALLOW' && behavior !== 'OVERWRITE' && behavior !== 'RETAIN') {
    throw new AppSpecError('file_exists_behavior must be DISALLOW, OVERWRITE or RETAIN');
  }

  const permissions = (Array.isArray(doc.permissions) ? doc.permissions : []).map((entry: unknown, i) => {
    if (!isRecord(entry) || typeof entry.object !== 'string') throw new AppSpecError(`permissions[${i}] needs an object`);
    return {
      object: entry.object,
      ...(typeof entry.owner === 'string' ? { owner: entry.owner } : {}),
      ...(typeof entry.group === 'string' ? { group: entry.group } : {}),
      ...(typeof entry.mode === 'string' || typeof entry.mode === 'number' ? { mode: String(entry.mode) } : {}),
    };
  });

  const hooks: Record<string, HookScript[]> = {};
  const rawHooks = doc.hooks ?? {};
  if (!isRecord(rawHooks)) throw new AppSpecError('hooks must be a mapping of event names to scripts');
  for (const [event, scripts] of Object.entries(rawHooks)) {
    if (!SCRIPTABLE_EVENTS.has(event)) throw new AppSpecError(`hooks.${event} is not a lifecycle event that runs scripts`);
    if (!Array.isArray(scripts)) throw new AppSpecError(`hooks.${event} must be a list of scripts`);
    hooks[event] = scripts.map((script: unknown, i) => {
      if (!isRecord(script) || typeof script.location !== 'string') throw new AppSpecError(`hooks.${event}[${i}] needs a location`);
      const timeout = script.timeout === undefined ? MAX_EVENT_TIMEOUT_SECONDS : Number(script.timeout);
      if (!Number.isInteger(timeout) || timeout < 1) throw new AppSpecError(`hooks.${event}[${i}].timeout must be a whole number of seconds`);
      return { location: script.location, timeoutSeconds: timeout, runas: typeof script.runas === 'string' ? script.runas : undefined };
    });
    const total = hooks[event].reduce((sum, script) => sum + script.timeoutSeconds, 0);
    if (total > MAX_EVENT_TIMEOUT_SECONDS) {
      throw new AppSpecError(`hooks.${event}: the timeouts add up to ${total} s, over CodeDeploy's ${MAX_EVENT_TIMEOUT_SECONDS} s per event`);
    }
  }

  return { files, fileExistsBehavior: behavior, permissions, hooks };
}

export function readAppSpec(file: string): AppSpec {
  return parseAppSpec(readFileSync(file, 'utf8'));
}
