// The environment the build's commands see.
//
// CodeBuild runs commands in a fresh container: its environment is the image's
// (PATH, HOME…), the variables CodeBuild sets, and the ones you declare. The
// rehearsal mirrors that: it passes on only a small allow-list of the parent
// process's variables, the laptop's stand-in for the image, so a build that
// passes locally does not secretly depend on something exported in your shell
// (AWS credentials, NODE_OPTIONS, a stray CI flag…).
//
// Variables CodeBuild sets:
// https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-env-vars.html
// Precedence (start-build overrides > project > buildspec > image):
// https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html#build-spec.env.variables
import path from 'node:path';

/**
 * Parent variables passed to the build unchanged: what a build image would
 * define (PATH, HOME, locale, temp dir, time zone), the TLS and proxy settings a
 * corporate network needs for `npm ci`, npm's own configuration, and the
 * Turborepo cache directory.
 */
export const PARENT_ENV_ALLOW_LIST: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LANGUAGE',
  'TERM',
  'TMPDIR',
  'TZ',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'NODE_EXTRA_CA_CERTS',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  // Where Turborepo keeps its cache, when the caller chose one. CI points it at
  // its own run's cache, so a rehearsal build replays the tasks CI has just run
  // on the same inputs; on CodeBuild the same role falls to the S3 cache of
  // `.turbo/cache` (buildspec.yml `cache:`) or a Turborepo remote cache
  // (TURBO_API, TURBO_TEAM, TURBO_TOKEN in the project's environment).
  'TURBO_CACHE_DIR',
];

/** Prefixes of parent variables passed on: locale categories and npm configuration. */
export const PARENT_ENV_ALLOW_PREFIXES: readonly string[] = ['LC_', 'npm_config_', 'NPM_CONFIG_'];

/**
 * Never passed, although the prefix matches: `npm run` sets it to the directory
 * it was started in, which is the original checkout, not the build's copy.
 */
const PARENT_ENV_DENY_LIST: readonly string[] = ['npm_config_local_prefix'];

/** The project name in CODEBUILD_BUILD_ID and CODEBUILD_BUILD_ARN. */
export const PROJECT_NAME = 'rehearsal';
/** The account in the fake build ARN: clearly not a real one. */
export const FAKE_ACCOUNT_ID = '000000000000';
const DEFAULT_REGION = 'us-east-1';

export interface CodeBuildVariables {
  readonly srcDir: string;
  readonly buildId: string;
  readonly buildNumber: number;
  readonly region: string;
  readonly commit: string;
  readonly startTimeMs: number;
}

/** Region for AWS_REGION and the build ARN: the parent's AWS_REGION, else us-east-1. */
export function regionFrom(parentEnv: Readonly<Record<string, string | undefined>>): string {
  const region = parentEnv['AWS_REGION'];
  return region !== undefined && region !== '' ? region : DEFAULT_REGION;
}

/** The variables CodeBuild defines for every build (CODEBUILD_BUILD_SUCCEEDING is set per command). */
export function codeBuildVariables(v: CodeBuildVariables): Record<string, string> {
  return {
    AWS_REGION: v.region,
    AWS_DEFAULT_REGION: v.region,
    CODEBUILD_SRC_DIR: v.srcDir,
    CODEBUILD_BUILD_ID: v.buildId,
    CODEBUILD_BUILD_NUMBER: String(v.buildNumber),
    CODEBUILD_BUILD_ARN: `arn:aws:codebuild:${v.region}:${FAKE_ACCOUNT_ID}:build/${v.buildId}`,
    CODEBUILD_BUILD_IMAGE: 'local/rehearsal',
    CODEBUILD_INITIATOR: PROJECT_NAME,
    CODEBUILD_RESOLVED_SOURCE_VERSION: v.commit,
    // For a git source CodeBuild sets the commit, branch or tag it was asked to
    // build; the rehearsal always builds the working tree on top of HEAD.
    CODEBUILD_SOURCE_VERSION: v.commit,
    CODEBUILD_START_TIME: String(v.startTimeMs),
    CODEBUILD_BUILD_SUCCEEDING: '1',
    CODEBUILD_CI: 'true',
    CI: 'true',
  };
}

export interface BuildEnvInput {
  readonly parentEnv: Readonly<Record<string, string | undefined>>;
  /** The checkout the rehearsal was started from; PATH entries inside it are dropped. */
  readonly sourceRoot: string;
  readonly codeBuild: Readonly<Record<string, string>>;
  /** `env.variables` plus the values standing in for Parameter Store / Secrets Manager entries. */
  readonly buildspecVariables: Readonly<Record<string, string>>;
  readonly overrides: Readonly<Record<string, string>>;
}

export interface BuildEnv {
  readonly env: Record<string, string>;
  /** Names the buildspec or the overrides tried to set under the reserved CODEBUILD_ prefix (ignored). */
  readonly reservedIgnored: readonly string[];
}

/**
 * Layers, lowest first: allow-listed parent variables (the "image"), the
 * CodeBuild-defined AWS_REGION/CI, the buildspec's variables, the overrides
 * (like values given to start-build), and last the CODEBUILD_ variables, which
 * the reference reserves for CodeBuild.
 */
export function buildEnv(input: BuildEnvInput): BuildEnv {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.parentEnv)) {
    if (value !== undefined && isAllowed(name)) env[name] = value;
  }
  if (env['PATH'] !== undefined) env['PATH'] = cleanPath(env['PATH'], input.sourceRoot);
  // A Turborepo cache for the rehearsal's builds alone: the workshop checker
  // hands CI's cache on this way, so its copy's builds replay what CI ran
  // while the reader's own `npm start` there still shows a fresh clone's
  // cache misses. It wins over TURBO_CACHE_DIR and is not passed on itself.
  const rehearsalTurboCache = input.parentEnv['REHEARSAL_TURBO_CACHE_DIR'];
  if (rehearsalTurboCache !== undefined && rehearsalTurboCache !== '') env['TURBO_CACHE_DIR'] = rehearsalTurboCache;

  const reserved: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.codeBuild)) {
    if (name.startsWith('CODEBUILD_')) reserved[name] = value;
    else env[name] = value;
  }

  const reservedIgnored: string[] = [];
  for (const layer of [input.buildspecVariables, input.overrides]) {
    for (const [name, value] of Object.entries(layer)) {
      if (name.startsWith('CODEBUILD_')) reservedIgnored.push(name);
      else env[name] = value;
    }
  }
  return { env: { ...env, ...reserved }, reservedIgnored };
}

function isAllowed(name: string): boolean {
  if (PARENT_ENV_DENY_LIST.includes(name)) return false;
  return PARENT_ENV_ALLOW_LIST.includes(name) || PARENT_ENV_ALLOW_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/**
 * Drops PATH entries that would let the build run tools from outside its copy:
 * anything inside the original checkout and any `node_modules/.bin` (`npm run`
 * prepends the invoking workspace's ones). Otherwise `turbo` or `jest` in the
 * build could resolve to the checkout's node_modules instead of the copy's own.
 */
export function cleanPath(value: string, sourceRoot: string): string {
  const root = path.resolve(sourceRoot);
  return value
    .split(path.delimiter)
    .filter((entry) => {
      if (entry === '') return false;
      const abs = path.resolve(entry);
      const insideCheckout = abs === root || abs.startsWith(`${root}${path.sep}`);
      const binDir = abs.endsWith(`${path.sep}node_modules${path.sep}.bin`);
      return !insideCheckout && !binDir;
    })
    .join(path.delimiter);
}
