import { execFileSync } from 'node:child_process';

export interface GitOptions {
  /**
   * Commit as this name (`<name>@localhost`), with signing off, whatever the
   * user's git config says: for the throwaway repositories tools and tests make.
   */
  readonly author?: string;
  /** The environment git runs with. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Runs git in `cwd` and returns its stdout; throws when it exits non-zero,
 * with its stderr in the error. Large listings fit (`ls-files` of a big tree).
 */
export function git(cwd: string, args: readonly string[], options: GitOptions = {}): string {
  const identity = options.author === undefined ? [] : ['-c', `user.name=${options.author}`, '-c', `user.email=${options.author}@localhost`, '-c', 'commit.gpgsign=false'];
  return execFileSync('git', [...identity, ...args], {
    cwd,
    encoding: 'utf8',
    env: options.env,
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
