import { configKeys, ENVIRONMENT_ONLY_KEYS, type KeySpecs } from './schema';

/** One config key as Parameter Store and the infra see it. */
export interface ConfigKeyInfo {
  /** The config key, e.g. `LOG_LEVEL`. */
  readonly key: string;
  readonly description: string;
  /**
   * The parameter's name below the service's path (`CONFIG_SSM_PATH`), e.g.
   * `log-level`; undefined for a key only the environment may set.
   */
  readonly parameter: string | undefined;
  /** Whether the service refuses to boot on AWS when the parameter is missing. */
  readonly ssmRequired: boolean;
  /** The default, as the text a source would hold; undefined when the key has none (it is then optional). */
  readonly defaultText: string | undefined;
}

/**
 * The parameter name a key is expected under below a path: lower case, `_` as
 * `-`. `GREETING` below `/conveyor-api/prod/` is `/conveyor-api/prod/greeting`.
 */
export function keyToParameterName(ssmPath: string, key: string): string {
  return `${ssmPath}${key.toLowerCase().replace(/_/g, '-')}`;
}

/**
 * Every config key with its Parameter Store name, whether it is required
 * there, and its default: derived from the schema, so the infra (which
 * writes parameters) and tests (which stub them) iterate this list instead
 * of naming keys by hand.
 */
export function describeConfigKeys(keys: KeySpecs = configKeys): ConfigKeyInfo[] {
  return Object.entries(keys).map(([key, spec]) => {
    const unset = spec.schema.safeParse(undefined);
    const fallback = unset.success ? (unset.data as string | number | boolean | undefined) : undefined;
    return {
      key,
      description: spec.description,
      parameter: ENVIRONMENT_ONLY_KEYS.includes(key) ? undefined : keyToParameterName('', key),
      ssmRequired: spec.ssmRequired === true,
      defaultText: fallback === undefined ? undefined : String(fallback),
    };
  });
}

/**
 * One parameter below `ssmPath` for every key the schema marks required in
 * Parameter Store, holding the key's default: the least a Parameter Store
 * stub must hold for the loader to accept it. Tests build their stubs from it
 * (adding the parameters they are about), so a new required key does not
 * break them.
 * @throws Error when a required key has no default to stub it with.
 */
export function requiredParameters(ssmPath: string, keys: KeySpecs = configKeys): { readonly name: string; readonly value: string }[] {
  return describeConfigKeys(keys)
    .filter((info) => info.ssmRequired && info.parameter !== undefined)
    .map((info) => {
      if (info.defaultText === undefined) throw new Error(`${info.key} is required in Parameter Store but has no default to stub it with`);
      return { name: `${ssmPath}${info.parameter ?? ''}`, value: info.defaultText };
    });
}
