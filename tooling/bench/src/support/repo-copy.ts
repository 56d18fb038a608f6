import path from 'node:path';

import { copyWorkingTree } from '@conveyor/local-pipeline';
import { endLeftovers, git } from '@conveyor/tooling-support';

import type { BenchContext } from '../report';
import { childEnv } from './child-env';

/** A throwaway copy of the repo where the bench may rehearse and commit without touching the user's checkout. */
export interface RepoCopy {
  readonly root: string;
  /** The environment of a step in the copy: the parent's allow-listed variables (see childEnv). */
  readonly env: () => Record<string, string>;
  /** Stages `paths` and commits them, as a developer would before rehearsing. */
  readonly commit: (message: string, paths: readonly string[]) => void;
  /** Ends, and logs, every process `step` left running from the copy or from `paths`, or with one of `args` (a port) as an argument. */
  readonly endLeftovers: (step: string, paths?: readonly string[], args?: readonly string[]) => void;
}

/**
 * The working tree copied as the rehearsal's build copies it, in a temp dir of
 * the run, and committed once, as a clone is: turbo hashes inputs through git
 * (and so honours .gitignore), and the packaging step reads HEAD.
 */
export function repoCopy(ctx: BenchContext): RepoCopy {
  const root = path.join(ctx.tempDir('repo'), 'repo');
  const { files } = copyWorkingTree(ctx.repoRoot, root);
  const env = () => childEnv(ctx.env);
  const commit = (message: string, paths: readonly string[]) => {
    git(root, ['add', '--', ...paths], { env: env() });
    git(root, ['commit', '--quiet', '--no-verify', '-m', message], { author: 'bench', env: env() });
  };
  git(root, ['init', '--quiet'], { env: env() });
  commit('bench: copy of the working tree', ['.']);
  ctx.log(`copied the working tree (${files.length} files, committed once) to ${root}`);

  return {
    root,
    env,
    commit,
    endLeftovers: (step, paths = [], args = []) => {
      const pids = endLeftovers([root, ...paths], args);
      if (pids.length > 0) ctx.log(`${step}: ended ${pids.length} processes it left running (pids ${pids.join(', ')})`);
    },
  };
}
