import { PARENT_ENV_ALLOW_LIST, PARENT_ENV_ALLOW_PREFIXES } from '@conveyor/local-pipeline';

/**
 * Never passed on, although the prefix matches: `npm run bench` sets it to the
 * user's checkout, and an `npm ci` that inherited it would install there
 * instead of in the throwaway copy.
 */
const DENY = new Set(['npm_config_local_prefix']);

/**
 * The environment of a step the bench runs in its throwaway copy (npm ci,
 * turbo, npm test, cdk synth): the same allow-list of the parent's variables
 * the rehearsal's CodeBuild emulator passes on (PATH, HOME, locale, proxies,
 * npm configuration), so a figure does not depend on whatever the user's shell
 * exports, plus `extra`, which wins.
 */
export function childEnv(
  parent: Readonly<Record<string, string | undefined>>,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(parent)) {
    if (value === undefined || DENY.has(key)) continue;
    if (PARENT_ENV_ALLOW_LIST.includes(key) || PARENT_ENV_ALLOW_PREFIXES.some((prefix) => key.startsWith(prefix))) env[key] = value;
  }
  return { ...env, ...extra };
}
