export * from './contract';
export { ConfigError, ConfigSourceError, type ConfigProblem } from './errors';
export { loadConfig, type ConfigLogger, type LoadConfigOptions } from './load';
export { describeConfigKeys, keyToParameterName, requiredParameters, type ConfigKeyInfo } from './parameters';
export {
  configKey,
  configKeys,
  configSchema,
  ENVIRONMENT_ONLY_KEYS,
  schemaOf,
  wholeNumber,
  type Config,
  type ConfigKey,
  type ConfigOf,
  type KeySpec,
  type KeySpecs,
} from './schema';
export { parameterNameToKey } from './ssm';
