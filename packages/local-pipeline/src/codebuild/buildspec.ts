// Parses and validates a CodeBuild buildspec (version 0.2) into a typed object.
//
// Reference: https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html
//
// The YAML is read with the failsafe schema, so every scalar stays the string
// the author wrote: `version: 0.2` is "0.2", `discard-paths: yes` is "yes" and
// an env value `0.10` is not turned into the number 0.1. CodeBuild itself treats
// env values as strings, so this is the faithful reading.
//
// The reader covers what a project like this one uses (phases, env variables
// and Parameter Store, reports, the artifact, the cache) and refuses the keys
// the rehearsal cannot reproduce (batch, proxy, run-as, Secrets Manager,
// exported variables, secondary artifacts...), naming the key and its line, so
// a local run never passes on a buildspec that would behave otherwise on AWS.
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';

import { locatorFor, problemsOf } from '../yaml-keys';
import { BuildspecError } from './errors';

/** The buildspec phases CodeBuild runs, in order. */
export const PHASE_NAMES = ['install', 'pre_build', 'build', 'post_build'] as const;
export type PhaseName = (typeof PHASE_NAMES)[number];

/** `phases.<name>.on-failure`. Absent means the default phase transitions apply. */
export type OnFailure = 'ABORT' | 'CONTINUE';

export interface BuildspecPhase {
  readonly commands: readonly string[];
  /** Run after `commands`, even when one of them failed. */
  readonly finally: readonly string[];
  readonly onFailure: OnFailure | undefined;
  /** `install.runtime-versions`, e.g. `{ nodejs: '22' }`. Empty for other phases. */
  readonly runtimeVersions: Readonly<Record<string, string>>;
}

/** The fields `artifacts:` and each report group share. */
export interface FileSetSpec {
  /** Globs relative to the base directory: `*`, `?` within a path segment, `**` across segments. */
  readonly files: readonly string[];
  /** Relative to the source directory; may itself contain `*` (it then names several top-level directories). */
  readonly baseDirectory: string | undefined;
  /** Flatten every file into the root of the output. */
  readonly discardPaths: boolean;
}

export interface ArtifactsSpec extends FileSetSpec {
  /** Globs relative to the base directory of files to leave out. */
  readonly excludePaths: readonly string[];
  /** Keep symbolic links as links; otherwise a link to a file is stored as the file's content. */
  readonly enableSymlinks: boolean;
}

/**
 * The report formats the rehearsal collects: JUnit XML for tests (what jest and
 * most runners write) and the two coverage formats Istanbul, jest's coverage
 * tool, writes. CodeBuild's other formats are refused.
 */
export const REPORT_FILE_FORMATS = ['JUNITXML', 'CLOVERXML', 'COBERTURAXML'] as const;
export type ReportFileFormat = (typeof REPORT_FILE_FORMATS)[number];

export interface ReportGroupSpec extends FileSetSpec {
  /** @default 'JUNITXML' (the CodeBuild default) */
  readonly fileFormat: ReportFileFormat;
}

export interface CacheSpec {
  /** Globs relative to the source directory. */
  readonly paths: readonly string[];
  /**
   * `cache.key`, unevaluated: it may hold `$(codebuild-hash-files <glob>...)`
   * and variables. With a key, a restore takes the entry saved under exactly
   * this key, and a save never overwrites an existing one.
   */
  readonly key: string | undefined;
  /** `cache.fallback-keys` (up to five), unevaluated: tried in order, each as a prefix, when the key has no entry. Empty without a key. */
  readonly fallbackKeys: readonly string[];
  /** `cache.action`: restore only, save only, or both (the default). */
  readonly restore: boolean;
  readonly save: boolean;
}

export interface BuildspecEnv {
  /** `env.shell`. The rehearsal always runs bash; see the runner. */
  readonly shell: string | undefined;
  readonly variables: Readonly<Record<string, string>>;
  /** Variable name to Parameter Store parameter name. Needs AWS: locally each name takes an override's value. */
  readonly parameterStore: Readonly<Record<string, string>>;
}

export interface Buildspec {
  readonly version: '0.2';
  readonly env: BuildspecEnv;
  readonly phases: Readonly<Partial<Record<PhaseName, BuildspecPhase>>>;
  readonly artifacts: ArtifactsSpec | undefined;
  readonly reports: Readonly<Record<string, ReportGroupSpec>>;
  readonly cache: CacheSpec | undefined;
  /**
   * Keys CodeBuild itself ignores, each with the reason (`cache.fallback-keys`
   * without a `cache.key`). The runner prints one note per entry so nothing is
   * silently dropped. Keys the rehearsal cannot emulate are refused instead.
   */
  readonly notEmulated: readonly { readonly key: string; readonly reason: string }[];
}

export interface ParseBuildspecOptions {
  /** Name used in error messages. @default 'buildspec.yml' */
  readonly fileName?: string;
}

export { keyLocator, keyName, type KeyPath } from '../yaml-keys';

/** "Up to five fallback keys are supported." */
const MAX_FALLBACK_KEYS = 5;
/** Linux shell tags CodeBuild accepts for `env.shell`. */
const LINUX_SHELLS = ['bash', '/bin/sh'];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

// --- the schema ----------------------------------------------------------
//
// The failsafe YAML schema leaves every scalar a string, so each leaf is a
// string schema. Every message names what to write instead; the key and the
// line are added from the path of the value zod rejected (see parseBuildspec).

/**
 * A key CodeBuild knows but the rehearsal refuses rather than half-emulates:
 * the build would otherwise pass locally and behave differently on AWS.
 */
const unsupported = (reason: string) => z.never({ error: `is not supported by the rehearsal: ${reason}` }).optional();

const single = (message = 'must be a single value, not a list or a mapping') => z.string({ error: message });
/** A mapping with exactly these keys; `supported` lists the ones to suggest for a misspelled key. */
const mapping = <T extends z.core.$ZodLooseShape>(shape: T, supported: readonly string[], required = 'is required') =>
  z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `is not a buildspec key here; expected one of ${supported.join(', ')}`
        : issue.input === undefined
          ? required
          : 'must be a mapping (key: value lines)',
  });
const stringList = z.array(z.string({ error: 'must be a string' }), {
  error: (issue) => (issue.input === undefined ? 'is required' : 'must be a list'),
});
const pathList = stringList.min(1, { error: 'must list at least one path' });
/** CodeBuild spells booleans `yes`/`no` in its reference; `true`/`false` are accepted too. */
const yesNo = single()
  .transform((v) => v.toLowerCase())
  .pipe(z.enum(['yes', 'true', 'no', 'false'], { error: 'must be yes or no' }))
  .transform((v) => v === 'yes' || v === 'true')
  .optional()
  .transform((v) => v ?? false);

/** Variable name to value; values are never echoed, they may be secrets. */
const envMap = z
  .record(z.string(), z.unknown(), { error: 'must be a mapping (key: value lines)' })
  .superRefine((map, ctx) => {
    for (const [name, value] of Object.entries(map)) {
      if (!ENV_NAME.test(name)) {
        ctx.addIssue({ code: 'custom', path: [name], message: 'is not a valid environment variable name (letters, digits and _, not starting with a digit)' });
      } else if (typeof value !== 'string') {
        ctx.addIssue({ code: 'custom', path: [name], message: 'must be a plain value, not a list or a mapping' });
      }
    }
  })
  .transform((map) => map as Record<string, string>)
  .optional()
  .transform((map) => map ?? {});

const commandList = z
  .array(
    z.string({
      // The classic YAML trap: `- echo key: value` is a mapping, not a command.
      error: (issue) =>
        issue.input !== null && typeof issue.input === 'object' && !Array.isArray(issue.input)
          ? 'must be a string; YAML read this command as a mapping, so quote it (a ": " inside a command needs quotes)'
          : 'must be a string',
    }),
    { error: 'must be a list of commands' },
  )
  .optional()
  .transform((list) => list ?? []);

const RUN_AS = unsupported('commands run as the current user; remove run-as');

const phaseShape = {
  'on-failure': z.enum(['ABORT', 'CONTINUE'], { error: 'must be ABORT or CONTINUE' }).optional(),
  commands: commandList,
  finally: commandList,
  'run-as': RUN_AS,
};
const toPhase = (p: { 'on-failure'?: OnFailure | undefined; commands: string[]; finally: string[] }, runtimeVersions: Record<string, string> = {}): BuildspecPhase => ({
  commands: p.commands,
  finally: p.finally,
  onFailure: p['on-failure'],
  runtimeVersions,
});
const phase = mapping(phaseShape, ['on-failure', 'commands', 'finally']).transform((p) => toPhase(p)).optional();
const installPhase = mapping(
  { ...phaseShape, 'runtime-versions': z.record(z.string(), single(), { error: 'must be a mapping (key: value lines)' }).optional() },
  ['runtime-versions', 'on-failure', 'commands', 'finally'],
)
  .transform((p) => toPhase(p, p['runtime-versions']))
  .optional();

const fileSetShape = {
  files: pathList,
  'base-directory': single().optional(),
  'discard-paths': yesNo,
};

const artifacts = mapping(
  {
    ...fileSetShape,
    'exclude-paths': z.union([single(), stringList]).optional(),
    'enable-symlinks': yesNo,
    name: unsupported('the artifact is a local directory; CodePipeline names it, so remove name'),
    's3-prefix': unsupported('nothing is uploaded to S3'),
    'secondary-artifacts': unsupported('only the primary artifact is collected'),
  },
  ['files', 'base-directory', 'discard-paths', 'exclude-paths', 'enable-symlinks'],
).transform(
  (a): ArtifactsSpec => ({
    files: a.files,
    baseDirectory: a['base-directory'],
    discardPaths: a['discard-paths'],
    excludePaths: a['exclude-paths'] === undefined ? [] : typeof a['exclude-paths'] === 'string' ? [a['exclude-paths']] : a['exclude-paths'],
    enableSymlinks: a['enable-symlinks'],
  }),
);

const reportGroup = mapping(
  {
    ...fileSetShape,
    // The reference says the value is not case sensitive.
    'file-format': single()
      .transform((v) => v.toUpperCase())
      .pipe(
        z.enum(REPORT_FILE_FORMATS, {
          error: `must be one of ${REPORT_FILE_FORMATS.join(', ')}; other CodeBuild report formats are not supported by the rehearsal`,
        }),
      )
      .optional(),
  },
  ['files', 'base-directory', 'discard-paths', 'file-format'],
).transform(
  (g): ReportGroupSpec => ({
    files: g.files,
    baseDirectory: g['base-directory'],
    discardPaths: g['discard-paths'],
    fileFormat: g['file-format'] ?? 'JUNITXML',
  }),
);

const cache = mapping(
  {
    paths: pathList,
    key: single()
      .refine((k) => k.trim() !== '', { error: 'must not be empty' })
      .optional(),
    'fallback-keys': stringList
      .refine((keys) => keys.length <= MAX_FALLBACK_KEYS, {
        error: (issue) => `lists ${(issue.input as unknown[]).length} keys; CodeBuild supports up to ${MAX_FALLBACK_KEYS}`,
      })
      .optional(),
    action: z.enum(['restore', 'save'], { error: 'must be restore or save (omit it for both)' }).optional(),
  },
  ['paths', 'key', 'fallback-keys', 'action'],
).transform(
  (c): CacheSpec => ({
    paths: c.paths,
    key: c.key,
    // The reference: "This sequence will be ignored if key is not provided."
    fallbackKeys: c.key === undefined ? [] : (c['fallback-keys'] ?? []),
    restore: c.action !== 'save',
    save: c.action !== 'restore',
  }),
);

const buildspecSchema = z
  .strictObject(
    {
      version: z.string({
        error: (issue) =>
          issue.input === undefined ? 'is required; use version: 0.2' : 'must be 0.2, the only buildspec version the rehearsal emulates',
      }).superRefine((v, ctx) => {
        if (v === '0.1') {
          ctx.addIssue({
            code: 'custom',
            message:
              'version 0.1 is not supported: it runs every command in its own shell, so `cd` and `export` do not carry over; use version: 0.2',
          });
        } else if (v !== '0.2') {
          ctx.addIssue({ code: 'custom', message: 'must be 0.2, the only buildspec version the rehearsal emulates' });
        }
      }),
      'run-as': RUN_AS,
      proxy: unsupported('there is no proxy server locally'),
      batch: unsupported('batch builds are not emulated; remove batch to rehearse the one build'),
      env: mapping(
        {
          shell: z.enum(LINUX_SHELLS, { error: `must be one of ${LINUX_SHELLS.join(', ')} (the Linux shell tags)` }).optional(),
          variables: envMap,
          'parameter-store': envMap,
          'secrets-manager': unsupported('use env.parameter-store (a SecureString parameter), which the rehearsal takes from an override'),
          'exported-variables': unsupported('exported variables feed later CodePipeline actions, which the rehearsal does not run'),
          'git-credential-helper': unsupported('the local git uses your own credentials'),
        },
        ['shell', 'variables', 'parameter-store'],
      )
        .transform((e): BuildspecEnv => ({ shell: e.shell, variables: e.variables, parameterStore: e['parameter-store'] }))
        .optional()
        .transform((e) => e ?? { shell: undefined, variables: {}, parameterStore: {} }),
      phases: mapping({ install: installPhase, pre_build: phase, build: phase, post_build: phase }, PHASE_NAMES, 'is required: a mapping of install, pre_build, build and post_build').transform((p) => {
        const phases: Partial<Record<PhaseName, BuildspecPhase>> = {};
        for (const name of PHASE_NAMES) if (p[name] !== undefined) phases[name] = p[name];
        return phases;
      }),
      artifacts: artifacts.optional(),
      reports: z
        .record(z.string(), reportGroup, { error: 'must be a mapping (key: value lines)' })
        .optional()
        .transform((r) => r ?? {}),
      cache: cache.optional(),
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? 'is not a buildspec key here; expected one of version, env, phases, reports, artifacts, cache'
          : 'must be a mapping (key: value lines)',
    },
  );

/**
 * Parses a buildspec and validates it against the 0.2 reference, narrowed to
 * what the rehearsal runs faithfully.
 *
 * @throws BuildspecError listing every problem, each naming its key (and line).
 */
export function parseBuildspec(text: string, options: ParseBuildspecOptions = {}): Buildspec {
  const fileName = options.fileName ?? 'buildspec.yml';
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { schema: 'failsafe', lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new BuildspecError(
      fileName,
      doc.errors.map((e) => ({ key: '(yaml)', line: lineCounter.linePos(e.pos[0]).line, problem: e.message })),
    );
  }
  const raw: unknown = doc.toJS();
  const result = buildspecSchema.safeParse(raw);
  if (!result.success) throw new BuildspecError(fileName, problemsOf(result.error, locatorFor(doc, lineCounter)));
  const notEmulated: { key: string; reason: string }[] = [];
  const rawCache = (raw as { cache?: { key?: unknown; 'fallback-keys'?: unknown } }).cache;
  if (rawCache?.key === undefined && Array.isArray(rawCache?.['fallback-keys']) && rawCache['fallback-keys'].length > 0) {
    notEmulated.push({ key: 'cache.fallback-keys', reason: 'CodeBuild ignores fallback keys when there is no key' });
  }
  const { env, phases, artifacts: artifactsSpec, reports, cache: cacheSpec } = result.data;
  return { version: '0.2', env, phases, artifacts: artifactsSpec, reports, cache: cacheSpec, notEmulated };
}
