/** One problem with one buildspec key. */
export interface BuildspecProblem {
  /** The key's path in the buildspec, e.g. `phases.build.commands[2]` or `env.parameter-store.DB_PASSWORD`. */
  readonly key: string;
  /** 1-based line in the buildspec file, when the key exists in it. */
  readonly line?: number;
  /** What is wrong and, where it helps, what to write instead. */
  readonly problem: string;
}

/**
 * The buildspec is invalid, or asks for something the local rehearsal cannot do
 * (Parameter Store, a cache path outside the source directory…). The message
 * lists every problem, each naming its key, so one run shows all of them.
 * Values of environment variables are never quoted: they may be secrets.
 */
export class BuildspecError extends Error {
  readonly problems: readonly BuildspecProblem[];

  constructor(file: string, problems: readonly BuildspecProblem[]) {
    super(
      `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  - ${p.key}${p.line === undefined ? '' : ` (line ${p.line})`}: ${p.problem}`).join('\n'),
    );
    this.name = 'BuildspecError';
    this.problems = problems;
  }
}
