/**
 * `codedeploy-bundle`: run from an app workspace by `npm run package` (turbo).
 * Writes <repo>/artifacts/bundle/ (the CodeDeploy revision, which buildspec.yml
 * names as the build artifact) and <repo>/artifacts/bundle.tar.gz.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

import { BUNDLE_ARCHIVE, BUNDLE_DIR, createBundle } from './bundle';
import { resolveCommit } from './commit';

function repoRootFrom(dir: string): string {
  return execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: dir, encoding: 'utf8' }).trim();
}

async function main(): Promise<void> {
  const appDir = process.cwd();
  // CodeBuild's source dir may not be a git checkout; fall back to two levels up (apps/<name>).
  const repoRoot = process.env.CODEBUILD_SRC_DIR ?? repoRootFrom(appDir);
  const outDir = path.join(repoRoot, BUNDLE_DIR);
  const started = Date.now();
  const report = await createBundle({
    repoRoot,
    appDir,
    outDir,
    archivePath: path.join(repoRoot, BUNDLE_ARCHIVE),
    commit: resolveCommit(repoRoot, process.env),
    progress: (line) => console.error(`[package] ${line}`),
  });
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  console.error(
    `[package] bundle ${report.version} @ ${report.commit}: ${report.files} files, ${mb(report.bytes)}` +
      `${report.archiveBytes === undefined ? '' : ` (archive ${mb(report.archiveBytes)})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  console.error(`[package] -> ${path.relative(process.cwd(), outDir)}`);
}

main().catch((error: unknown) => {
  console.error(`[package] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
