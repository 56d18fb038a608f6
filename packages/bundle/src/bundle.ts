import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import {
  APP_USER,
  HEALTH_PATH,
  INSTALL_ROOT,
  INSTANCE_ENV_FILE,
  LOG_DIR,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  SERVICE_NAME,
  SERVICE_PORT,
  STARTUP_TIMEOUT_MS,
} from '@conveyor/config';
import { build } from 'esbuild';

import { dependencyClosure, readLockfile } from './lockfile';

export interface BundleOptions {
  /** The monorepo root (package-lock.json, appspec.yml, scripts/codedeploy). */
  readonly repoRoot: string;
  /** The app workspace to bundle; its `dist/main.js` must be built. */
  readonly appDir: string;
  /** The bundle directory to (re)create: the CodeDeploy revision root. */
  readonly outDir: string;
  /** Where to write the .tar.gz of the bundle. @default - no archive */
  readonly archivePath?: string;
  /** The commit the bundle is built from. */
  readonly commit: string;
  /** @default - now */
  readonly builtAt?: Date;
  /** Progress lines. @default - silent */
  readonly progress?: (line: string) => void;
}

export interface BundleReport {
  readonly outDir: string;
  readonly archivePath: string | undefined;
  readonly version: string;
  readonly commit: string;
  readonly files: number;
  readonly bytes: number;
  readonly archiveBytes: number | undefined;
  /** Every node_modules package from the lockfile that the bundle carries (pm2 and its closure). */
  readonly packages: readonly string[];
  /** Every input esbuild put into dist/main.js. */
  readonly bundledInputs: readonly string[];
}

/** Where `npm run package` writes the bundle, relative to the repo root: buildspec.yml's `artifacts.base-directory`. */
export const BUNDLE_DIR = 'artifacts/bundle';
/** Where it writes the archive of the bundle, relative to the repo root. */
export const BUNDLE_ARCHIVE = 'artifacts/bundle.tar.gz';

/** Values in deploy.env are sourced by bash: keep them to characters that need no quoting. */
const SAFE_ENV_VALUE = /^[A-Za-z0-9_./:@+-]*$/;

/**
 * Builds the CodeDeploy revision. Its layout:
 *
 *   appspec.yml              the repo's appspec.yml, unchanged
 *   deploy.env               what the hooks need: names, port, paths, timeouts, the bundle's commit
 *   scripts/codedeploy/*.sh  the lifecycle hook scripts
 *   app/package.json         name and version
 *   app/build-info.json      version, commit, build time (read by /health)
 *   app/ecosystem.config.js  the pm2 process file
 *   app/dist/main.js         the service and its dependencies, bundled by esbuild
 *   app/node_modules/...     pm2 and its dependency closure, copied as the lockfile pins it
 *
 * The same bundle is deployed to every environment; what differs per
 * environment comes from Parameter Store and the instance's own env file.
 */
export async function createBundle(options: BundleOptions): Promise<BundleReport> {
  const { repoRoot, appDir, outDir, commit } = options;
  const say = options.progress ?? (() => undefined);
  const appPackage = JSON.parse(readFileSync(path.join(appDir, 'package.json'), 'utf8')) as { name: string; version: string };
  const entry = path.join(appDir, 'dist', 'main.js');
  if (!existsSync(entry)) throw new Error(`${path.relative(repoRoot, entry)} does not exist: build the app first (npm run build)`);
  if (!SAFE_ENV_VALUE.test(commit) || commit === '') throw new Error('The commit id must be a non-empty git revision (letters, digits, - and _)');

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(path.join(outDir, 'app', 'dist'), { recursive: true });

  say('bundling the service with esbuild');
  const result = await build({
    entryPoints: [entry],
    outfile: path.join(outDir, 'app', 'dist', 'main.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    legalComments: 'linked',
    metafile: true,
    logLevel: 'warning',
  });
  const bundledInputs = Object.keys(result.metafile.inputs).sort();

  say('copying pm2 and its dependencies as package-lock.json pins them');
  const lock = readLockfile(repoRoot);
  const appKey = path.relative(repoRoot, appDir).split(path.sep).join('/');
  const pm2Key = [`${appKey}/node_modules/pm2`, 'node_modules/pm2'].find((key) => lock.packages[key]);
  if (!pm2Key) throw new Error(`pm2 is not a dependency of ${appPackage.name}: add it (npm install -w ${appPackage.name} pm2)`);
  const packages = dependencyClosure(lock, pm2Key).filter((key) => {
    if (existsSync(path.join(repoRoot, key))) return true;
    // An optional dependency for another platform (fsevents on macOS): npm did not install it here, and pm2 runs without it.
    if (lock.packages[key]?.optional) return false;
    throw new Error(`${key} is in package-lock.json but not installed: run npm ci first`);
  });
  for (const key of packages) {
    const source = path.join(repoRoot, key);
    const target = path.join(outDir, 'app', key.startsWith(`${appKey}/`) ? key.slice(appKey.length + 1) : key);
    // Each package's own nested node_modules holds other packages; the closure
    // lists the ones needed, so copy the package without it.
    cpSync(source, target, { recursive: true, filter: (src) => path.relative(source, src).split(path.sep)[0] !== 'node_modules' });
  }

  say('writing appspec.yml, hook scripts, deploy.env and build info');
  cpSync(path.join(repoRoot, 'appspec.yml'), path.join(outDir, 'appspec.yml'));
  cpSync(path.join(repoRoot, 'scripts', 'codedeploy'), path.join(outDir, 'scripts', 'codedeploy'), { recursive: true });
  for (const script of readdirSync(path.join(outDir, 'scripts', 'codedeploy'))) {
    if (script.endsWith('.sh') && script !== 'lib.sh') chmodSync(path.join(outDir, 'scripts', 'codedeploy', script), 0o755);
  }
  cpSync(path.join(appDir, 'ecosystem.config.js'), path.join(outDir, 'app', 'ecosystem.config.js'));
  writeJson(path.join(outDir, 'app', 'package.json'), { name: appPackage.name, version: appPackage.version, private: true });
  const builtAt = (options.builtAt ?? new Date()).toISOString();
  writeJson(path.join(outDir, 'app', 'build-info.json'), { version: appPackage.version, commit, builtAt });
  writeDeployEnv(path.join(outDir, 'deploy.env'), {
    SERVICE_NAME,
    PORT: String(SERVICE_PORT),
    HEALTH_PATH,
    INSTALL_ROOT,
    LOG_DIR,
    APP_USER,
    INSTANCE_ENV_FILE,
    SHUTDOWN_TIMEOUT_MS: String(DEFAULT_SHUTDOWN_TIMEOUT_MS),
    STARTUP_TIMEOUT_MS: String(STARTUP_TIMEOUT_MS),
    BUNDLE_VERSION: appPackage.version,
    BUNDLE_COMMIT: commit,
    BUNDLE_BUILT_AT: builtAt,
  });

  let archiveBytes: number | undefined;
  if (options.archivePath) {
    say(`archiving to ${path.relative(repoRoot, options.archivePath)}`);
    mkdirSync(path.dirname(options.archivePath), { recursive: true });
    execFileSync('tar', ['-czf', options.archivePath, '-C', outDir, '.'], { stdio: ['ignore', 'ignore', 'inherit'] });
    archiveBytes = statSync(options.archivePath).size;
  }

  const { files, bytes } = measure(outDir);
  return { outDir, archivePath: options.archivePath, version: appPackage.version, commit, files, bytes, archiveBytes, packages, bundledInputs };
}

function writeJson(file: string, value: unknown): void {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

function writeDeployEnv(file: string, values: Readonly<Record<string, string>>): void {
  const lines = Object.entries(values).map(([key, value]) => {
    if (!SAFE_ENV_VALUE.test(value)) throw new Error(`deploy.env value for ${key} has characters that would need shell quoting`);
    return `${key}=${value}`;
  });
  writeFileSync(file, `# Written by @conveyor/bundle. Sourced by scripts/codedeploy/lib.sh; environment variables override it.\n${lines.join('\n')}\n`);
}

/** File count and total bytes under a directory. */
export function measure(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    files += 1;
    bytes += statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return { files, bytes };
}
