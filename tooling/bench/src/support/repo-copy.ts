import { execFileSync } from 'node:child_process';
import path from 'node:path';

import { endLeftovers } from '@conveyor/tooling-support';

import type { BenchContext } from '../report';
import { childEnv } from './child-env';
import { copySource } from './tree';

/**
 * A throwaway copy of the repo where the bench may rehearse and commit
 * without touching the user's checkout.
 */
export interface RepoCopy {
  /** The copy's root. */
  readonly root: string;
  /** The environment of a step in the copy: the parent's allow-listed variables (see childEnv). */
  readonly env: () => Record<string, string>;
  /** Stages `paths` and commits them, as a developer would before rehearsing. */
  readonly commit: (message: string, paths: readonly string[]) => void;
  /**
   * Ends every process still running from the copy or from `paths` (a step's
   * temp dir), or with one of `args` as a whole argument (a port), after
   * `step`, and says so.
   */
  readonly endLeftovers: (step: string, paths?: readonly string[], args?: readonly string[]) => void;
}

/** A copy of the working tree in a temp dir of the run, committed once, as a clone is. */
export function repoCopy(ctx: BenchContext): RepoCopy {
  const root = path.join(ctx.tempDir('repo'), 'repo');
  const files = copySource(ctx.repoRoot, root).length;
  const env = () => childEnv(ctx.env);

  // A commit, as a clone has: turbo hashes inputs through git (and so honours
  // .gitignore), and the packaging step reads HEAD.
  const git = (args: readonly string[]) => execFileSync('git', args, { cwd: root, env: env(), stdio: 'ignore', timeout: 60_000 });
  const commit = (message: string, paths: readonly string[]) => {
    git(['add', '--', ...paths]);
    git(['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', '-c', 'commit.gpgsign=false', 'commit', '--quiet', '--no-verify', '-m', message]);
  };
  git(['init', '--quiet']);
  commit('bench: copy of the working tree', ['.']);
  ctx.log(`copied the working tree (${files} files, committed once) to ${root}`);

  const endStepLeftovers = (step: string, paths: readonly string[] = [], args: readonly string[] = []) => {
    const pids = endLeftovers([root, ...paths], args);
    if (pids.length > 0) ctx.log(`${step}: ended ${pids.length} processes it left running (pids ${pids.join(', ')})`);
  };
  return { root, env, commit, endLeftovers: endStepLeftovers };
}
