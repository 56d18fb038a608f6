import { PARENT_ENV_ALLOW_LIST, PARENT_ENV_ALLOW_PREFIXES } from '@conveyor/local-pipeline';

/** `npm run bench` sets it to the user's checkout: an `npm ci` that inherited it would install there, not in the copy. */
const DENY = new Set(['npm_config_local_prefix']);

/**
 * The environment of a step the bench runs (a rehearsal, the hooks): the
 * allow-list of the parent's variables the rehearsal's CodeBuild emulator
 * passes on, so a figure does not depend on what the user's shell exports;
 * plus `extra`, which wins.
 */
export function childEnv(parent: Readonly<Record<string, string | undefined>>, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(parent)) {
    if (value === undefined || DENY.has(key)) continue;
    if (PARENT_ENV_ALLOW_LIST.includes(key) || PARENT_ENV_ALLOW_PREFIXES.some((prefix) => key.startsWith(prefix))) env[key] = value;
  }
  return { ...env, ...extra };
}
