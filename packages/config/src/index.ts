export * from './contract';
export { ConfigError, ConfigSourceError, type ConfigProblem } from './errors';
export { keyToParameterName, loadConfig, type ConfigLogger, type LoadConfigOptions } from './load';
export { configKeys, configSchema, type Config, type ConfigKey } from './schema';
export { parameterNameToKey } from './ssm';
