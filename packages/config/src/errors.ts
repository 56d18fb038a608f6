/** One problem with one config key. Never carries the key's value. */
export interface ConfigProblem {
  /** The config key, e.g. `GREETING`. */
  readonly key: string;
  /** Where the value came from or was expected, e.g. `SSM parameter /conveyor-api/prod/greeting`. */
  readonly source: string;
  /** What is wrong, in words that never quote the value. */
  readonly problem: string;
}

/**
 * The configuration is invalid. Its message lists every problem, naming the key
 * and the source, and never a value: values may be secrets.
 */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.key} (${p.source}): ${p.problem}`).join('\n'),
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** A config source (SSM Parameter Store) could not be read at all. */
export class ConfigSourceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigSourceError';
  }
}
