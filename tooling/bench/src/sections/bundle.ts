// Section 5: the deployable bundle. Its size against the naive bundle the
// classic tutorials ship (the service plus the whole repo's node_modules), and
// how long the instance-side lifecycle hooks take to install and start it.
import { lstatSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { createBundle } from '@conveyor/bundle';
import { INSTALL_ROOT, INSTANCE_ENV_FILE, LOG_DIR, SERVICE_NAME } from '@conveyor/config';
import { runLifecycle, type LocalInstance } from '@conveyor/local-pipeline';
import { freePort } from '@conveyor/tooling-support';

import { cell, fmt, goal, type BenchContext, type Section, type SectionResult, type Table } from '../report';
import { sum, summarize, type Summary } from '../stats';
import { childEnv } from '../support/child-env';
import { privatePm2 } from '../support/pm2';
import { addSizes, treeSize, type TreeSize } from '../support/tree';

/**
 * What the classic tutorials zip for a Node service, relative to the repo
 * root: the compiled service, its process file, the deployment files, and
 * the repo's whole node_modules as `npm ci` left it.
 */
const NAIVE_BUNDLE_PARTS = ['appspec.yml', 'scripts/codedeploy', 'apps/api/package.json', 'apps/api/ecosystem.config.js', 'apps/api/dist', 'node_modules'] as const;

/** The lifecycle events of a first deployment to an instance, in order (ApplicationStop is skipped: nothing is installed yet), and what runs in each. */
const WHAT_RUNS = {
  DownloadBundle: 'the agent copies the revision to the instance',
  BeforeInstall: 'before-install.sh',
  Install: 'appspec files: copied to the install root',
  AfterInstall: 'after-install.sh',
  ApplicationStart: 'application-start.sh (pm2 startOrReload)',
  ValidateService: 'validate-service.sh (health with this commit)',
} as const;
const EVENTS = Object.keys(WHAT_RUNS) as (keyof typeof WHAT_RUNS)[];

const seconds = (ms: number) => ms / 1000;
const mib = (bytes: number) => bytes / 2 ** 20;

/** The naive bundle, measured in place: every regular file and byte of NAIVE_BUNDLE_PARTS, links counted but not followed. */
export function naiveBundleSize(repoRoot: string): { total: TreeSize; parts: Record<string, TreeSize> } {
  const parts = Object.fromEntries(NAIVE_BUNDLE_PARTS.map((part) => [part, treeSize(path.join(repoRoot, part))]));
  return { total: addSizes(Object.values(parts)), parts };
}

/** The top-level node_modules entries that are symbolic links: the workspaces npm links there, e.g. `@conveyor/config`. */
export function workspaceLinks(nodeModules: string): string[] {
  const links: string[] = [];
  // Scoped packages sit one folder down: `@conveyor/config`.
  const visit = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const name = `${prefix}${entry.name}`;
      if (entry.isSymbolicLink()) links.push(name);
      else if (entry.isDirectory() && prefix === '' && entry.name.startsWith('@')) visit(path.join(dir, entry.name), `${name}/`);
    }
  };
  if (lstatSync(nodeModules, { throwIfNoEntry: false })?.isDirectory()) visit(nodeModules, '');
  return links.sort();
}

/**
 * One first deployment of the bundle to a fresh local instance, through the
 * rehearsal's CodeDeploy agent emulation: returns each event's duration.
 * The instance's pm2 is killed (by its own PM2_HOME) and its files removed.
 */
async function deployOnce(ctx: BenchContext, bundleDir: string, rep: number): Promise<Record<string, number>> {
  const root = ctx.tempDir('instance');
  const onInstance = (absolute: string) => path.join(root, absolute);
  const port = await freePort();
  const instanceEnv = onInstance(INSTANCE_ENV_FILE);
  mkdirSync(path.dirname(instanceEnv), { recursive: true });
  // What the instance's user data writes; HOST keeps the bench's service off other interfaces.
  writeFileSync(instanceEnv, `APP_ENV=bench\nPORT=${port}\nHOST=127.0.0.1\n`);
  const pm2Home = path.join(root, 'home', 'app', '.pm2');
  const instance: LocalInstance = {
    name: `bench-${rep}`,
    root,
    env: { INSTALL_ROOT: onInstance(INSTALL_ROOT), LOG_DIR: onInstance(LOG_DIR), INSTANCE_ENV_FILE: instanceEnv, PM2_HOME: pm2Home },
  };
  try {
    const result = await runLifecycle({
      instance,
      bundleDir,
      deployment: { id: `d-BENCH000${rep}`, applicationName: SERVICE_NAME, groupName: `${SERVICE_NAME}-bench`, groupId: 'bench' },
      parentEnv: childEnv(ctx.env),
      progress: () => undefined,
    });
    if (!result.succeeded) throw new Error(`bundle: deploying the bundle failed in ${result.failure?.event ?? '?'}: ${result.failure?.message ?? ''}`);
    return Object.fromEntries(result.events.filter((e) => e.status === 'Succeeded').map((e) => [e.event, e.durationMs]));
  } finally {
    const cleanup = performance.now();
    await privatePm2(path.join(bundleDir, 'app', 'node_modules', 'pm2', 'bin', 'pm2'), pm2Home, childEnv(ctx.env)).kill();
    rmSync(root, { recursive: true, force: true });
    ctx.log(`bundle: pm2 kill and instance removed … ${((performance.now() - cleanup) / 1000).toFixed(1)} s`);
  }
}

async function runBundleSection(ctx: BenchContext): Promise<SectionResult> {
  const work = ctx.tempDir('bundle');
  ctx.log('bundle: building the deployable bundle (createBundle)…');
  const report = await createBundle({
    repoRoot: ctx.repoRoot,
    appDir: path.join(ctx.repoRoot, 'apps', 'api'),
    outDir: path.join(work, 'bundle'),
    archivePath: path.join(work, 'bundle.tar.gz'),
    commit: 'bench',
  });
  ctx.log(`bundle: deployable bundle … ${fmt(mib(report.bytes))} MiB in ${fmt(report.files)} files`);

  ctx.log('bundle: measuring the naive bundle (the repo node_modules, walked in place)…');
  const naive = naiveBundleSize(ctx.repoRoot);
  ctx.log(`bundle: naive bundle … ${fmt(Math.round(mib(naive.total.bytes)))} MiB in ${fmt(naive.total.files)} files`);
  const workspaces = workspaceLinks(path.join(ctx.repoRoot, 'node_modules'));
  const bytesRatio = report.bytes / naive.total.bytes;
  const filesRatio = report.files / naive.total.files;

  const deploys: Record<string, number>[] = [];
  for (let rep = 1; rep <= ctx.reps; rep += 1) {
    ctx.log(`bundle: hooks, first deployment to a fresh instance ${rep}/${ctx.reps}…`);
    const events = await deployOnce(ctx, report.outDir, rep);
    deploys.push(events);
    ctx.log(`bundle: hooks ${rep}/${ctx.reps} … ${(sum(Object.values(events)) / 1000).toFixed(1)} s (${EVENTS.map((e) => `${e} ${((events[e] ?? 0) / 1000).toFixed(1)}`).join(', ')})`);
  }
  const perEvent: Record<string, Summary> = Object.fromEntries(EVENTS.map((event) => [event, summarize(deploys.map((d) => seconds(d[event] ?? 0)))]));
  const total = summarize(deploys.map((d) => seconds(sum(Object.values(d)))));

  const sizeTable: Table = {
    caption: 'The deployable bundle against the naive one (service + the whole repo node_modules)',
    columns: ['bundle', 'MiB', 'files', '.tar.gz MiB'],
    rows: [
      ['deployable (`npm run package`)', fmt(mib(report.bytes)), report.files, fmt(mib(report.archiveBytes ?? 0))],
      ['naive', fmt(mib(naive.total.bytes)), naive.total.files, 'not built'],
      ['ratio deployable / naive', fmt(bytesRatio), fmt(filesRatio), ''],
    ],
  };
  const hookTable: Table = {
    caption: `Instance side: a first deployment of the bundle, per lifecycle event (${ctx.reps} runs)`,
    columns: ['event', 'what runs', 'seconds, median (min–max)'],
    rows: [
      ...EVENTS.map((event) => [event, WHAT_RUNS[event], cell(perEvent[event]!, 's')]),
      ['total', 'DownloadBundle through ValidateService', cell(total, 's')],
    ],
  };
  return {
    id: 'bundle',
    title: 'The bundle',
    method:
      'The real bundle built with createBundle (@conveyor/bundle) into a temp dir and measured with its own measure(); the naive bundle measured in place by walking ' +
      `${NAIVE_BUNDLE_PARTS.join(', ')} (regular files and bytes, symbolic links counted apart and not followed). ` +
      `The hooks: ${ctx.reps} first deployments of the bundle to a fresh local instance (temp install root, private PM2_HOME, free port, pm2's default worker count) through the rehearsal's lifecycle emulator (runLifecycle), pm2 killed after each.`,
    tables: [sizeTable, hookTable],
    goals: [goal('bundle / naive bundle, bytes', bytesRatio, '≤ 0.2'), goal('bundle / naive bundle, files', filesRatio, '≤ 0.2')],
    notes: [
      `The naive bundle holds ${fmt(naive.total.symlinks)} symbolic links, counted as entries with no bytes and not followed: ${workspaces.length} are the workspace packages npm links into node_modules (${workspaces.join(', ')}), the rest are mostly .bin commands. An archiver that follows links would add the linked workspaces; one that keeps them ships links that point outside the bundle, so the naive bundle would not even start without @conveyor/config.`,
      `The naive bundle's .tar.gz is not built: compressing ${fmt(Math.round(mib(naive.total.bytes)))} MiB would take longer than the rest of this section, and the comparison is made on what lands on the instance.`,
      `Install copies ${fmt(report.files)} files; no npm install runs on the instance. ValidateService ends at the first health answer that reports this bundle's commit.`,
    ],
    data: {
      bundleBytes: report.bytes,
      bundleFiles: report.files,
      bundleArchiveBytes: report.archiveBytes ?? 0,
      bundlePackages: report.packages.length,
      naiveBytes: naive.total.bytes,
      naiveFiles: naive.total.files,
      naiveSymlinks: naive.total.symlinks,
      naiveWorkspaceLinks: workspaces,
      naiveParts: naive.parts,
      bytesRatio,
      filesRatio,
      hooksTotal: total,
      hooksPerEvent: perEvent,
      hookSamplesMs: deploys,
    },
  };
}

export const bundleSection: Section = { id: 'bundle', title: 'The bundle', run: runBundleSection };
