import { execFileSync } from 'node:child_process';

/**
 * The commit a bundle is built from, as /health and ValidateService will show
 * it, first found of:
 * 1. SOURCE_COMMIT_ID: the pipeline passes its source action's commit id (the
 *    source zip CodePipeline hands CodeBuild has no .git);
 * 2. CODEBUILD_RESOLVED_SOURCE_VERSION: CodeBuild's own (the rehearsal sets it,
 *    suffixed `-dirty` when it builds uncommitted changes);
 * 3. git HEAD, suffixed `-dirty` when the working tree has uncommitted changes,
 *    so a build of an edited tree is never taken for the commit it started from.
 */
export function resolveCommit(repoRoot: string, env: Readonly<Record<string, string | undefined>>): string {
  const fromPipeline = env['SOURCE_COMMIT_ID'] || env['CODEBUILD_RESOLVED_SOURCE_VERSION'];
  if (fromPipeline) return fromPipeline;
  const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: repoRoot, encoding: 'utf8' }).trim() !== '';
  return dirty ? `${head}-dirty` : head;
}
