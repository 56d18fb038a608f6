// Parses and validates a CodeBuild buildspec (version 0.2) into a typed object.
//
// Reference: https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html
//
// The YAML is read with the failsafe schema, so every scalar stays the string
// the author wrote: `version: 0.2` is "0.2", `discard-paths: yes` is "yes" and
// an env value `0.10` is not turned into the number 0.1. CodeBuild itself treats
// env values as strings, so this is the faithful reading.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';

import { BuildspecError, type BuildspecProblem } from './errors';

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

export const REPORT_FILE_FORMATS = [
  'CUCUMBERJSON',
  'JUNITXML',
  'NUNITXML',
  'NUNIT3XML',
  'TESTNGXML',
  'VISUALSTUDIOTRX',
  'CLOVERXML',
  'COBERTURAXML',
  'JACOCOXML',
  'SIMPLECOV',
] as const;
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
  /** Variable name to Parameter Store parameter name. Needs AWS: not available locally. */
  readonly parameterStore: Readonly<Record<string, string>>;
  /** Variable name to Secrets Manager reference. Needs AWS: not available locally. */
  readonly secretsManager: Readonly<Record<string, string>>;
  readonly exportedVariables: readonly string[];
}

export interface Buildspec {
  readonly version: '0.2';
  readonly env: BuildspecEnv;
  readonly phases: Readonly<Partial<Record<PhaseName, BuildspecPhase>>>;
  readonly artifacts: ArtifactsSpec | undefined;
  readonly reports: Readonly<Record<string, ReportGroupSpec>>;
  readonly cache: CacheSpec | undefined;
  /**
   * Keys that are valid for CodeBuild but have no effect in the rehearsal, each
   * with the reason, e.g. `run-as` (commands run as the current user). The
   * runner prints one note per entry so nothing is silently dropped.
   */
  readonly notEmulated: readonly { readonly key: string; readonly reason: string }[];
}

export interface ParseBuildspecOptions {
  /** Name used in error messages. @default 'buildspec.yml' */
  readonly fileName?: string;
}

/** A key's path in the buildspec: `['phases', 'build', 'commands', 2]`. */
export type KeyPath = readonly (string | number)[];
type Path = KeyPath;

const TOP_LEVEL_KEYS = ['version', 'run-as', 'env', 'proxy', 'batch', 'phases', 'reports', 'artifacts', 'cache'];
const ENV_KEYS = ['shell', 'variables', 'parameter-store', 'secrets-manager', 'exported-variables', 'git-credential-helper'];
const PHASE_KEYS = ['run-as', 'on-failure', 'commands', 'finally'];
const ARTIFACT_KEYS = [
  'files',
  'name',
  'discard-paths',
  'base-directory',
  'exclude-paths',
  'enable-symlinks',
  's3-prefix',
  'secondary-artifacts',
];
const REPORT_KEYS = ['files', 'base-directory', 'discard-paths', 'file-format'];
const CACHE_KEYS = ['paths', 'key', 'fallback-keys', 'action'];
/** "Up to five fallback keys are supported." */
const MAX_FALLBACK_KEYS = 5;
/** Linux shell tags CodeBuild accepts for `env.shell`. */
const LINUX_SHELLS = ['bash', '/bin/sh'];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parses a buildspec and validates it against the 0.2 reference.
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
  const reader = new Reader(doc, lineCounter);
  const spec = reader.buildspec(doc.toJS() as unknown);
  if (reader.problems.length > 0 || spec === undefined) throw new BuildspecError(fileName, reader.problems);
  return spec;
}

/** Walks the parsed YAML, collecting every problem instead of stopping at the first. */
class Reader {
  readonly problems: BuildspecProblem[] = [];
  private readonly notEmulated: { key: string; reason: string }[] = [];

  constructor(
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
  ) {}

  buildspec(root: unknown): Buildspec | undefined {
    const top = this.mapping([], root);
    if (top === undefined) return undefined;
    this.knownKeys([], top, TOP_LEVEL_KEYS);

    this.version(top['version']);
    if (top['run-as'] !== undefined) this.note(['run-as'], 'commands run as the current user');
    if (top['proxy'] !== undefined) this.note(['proxy'], 'there is no proxy server locally');
    if (top['batch'] !== undefined) this.note(['batch'], 'batch builds are not emulated; this one build runs');

    const env = this.env(top['env']);
    const phases = this.phases(top['phases']);
    const artifacts = top['artifacts'] === undefined ? undefined : this.artifacts(top['artifacts']);
    const reports = top['reports'] === undefined ? {} : this.reports(top['reports']);
    const cache = top['cache'] === undefined ? undefined : this.cache(top['cache']);

    return {
      version: '0.2',
      env,
      phases,
      artifacts,
      reports,
      cache,
      notEmulated: this.notEmulated,
    };
  }

  private version(value: unknown): void {
    if (value === undefined) {
      this.problem(['version'], 'is required; use version: 0.2');
    } else if (value === '0.1') {
      this.problem(
        ['version'],
        'version 0.1 is not supported: it runs every command in its own shell, so `cd` and `export` do not carry over; use version: 0.2',
      );
    } else if (value !== '0.2') {
      this.problem(['version'], 'must be 0.2, the only buildspec version the rehearsal emulates');
    }
  }

  private env(value: unknown): BuildspecEnv {
    const path = ['env'];
    const env = value === undefined ? {} : (this.mapping(path, value) ?? {});
    this.knownKeys(path, env, ENV_KEYS);

    let shell: string | undefined;
    if (env['shell'] !== undefined) {
      shell = this.string([...path, 'shell'], env['shell']);
      if (shell !== undefined && !LINUX_SHELLS.includes(shell)) {
        this.problem([...path, 'shell'], `must be one of ${LINUX_SHELLS.join(', ')} (the Linux shell tags)`);
      }
    }
    if (env['exported-variables'] !== undefined) {
      this.note([...path, 'exported-variables'], 'exported variables feed CodePipeline; nothing reads them locally');
    }
    if (env['git-credential-helper'] !== undefined) {
      this.note([...path, 'git-credential-helper'], 'the local git uses your own credentials');
    }
    return {
      shell,
      variables: this.envMap([...path, 'variables'], env['variables']),
      parameterStore: this.envMap([...path, 'parameter-store'], env['parameter-store']),
      secretsManager: this.envMap([...path, 'secrets-manager'], env['secrets-manager']),
      exportedVariables: this.stringList([...path, 'exported-variables'], env['exported-variables']) ?? [],
    };
  }

  private envMap(path: Path, value: unknown): Record<string, string> {
    if (value === undefined) return {};
    const map = this.mapping(path, value);
    if (map === undefined) return {};
    const out: Record<string, string> = {};
    for (const [name, v] of Object.entries(map)) {
      if (!ENV_NAME.test(name)) {
        this.problem([...path, name], 'is not a valid environment variable name (letters, digits and _, not starting with a digit)');
        continue;
      }
      // Never echo the value: it may be a secret.
      if (typeof v !== 'string') {
        this.problem([...path, name], 'must be a plain value, not a list or a mapping');
        continue;
      }
      out[name] = v;
    }
    return out;
  }

  private phases(value: unknown): Partial<Record<PhaseName, BuildspecPhase>> {
    if (value === undefined) {
      this.problem(['phases'], 'is required: a mapping of install, pre_build, build and post_build');
      return {};
    }
    const map = this.mapping(['phases'], value);
    if (map === undefined) return {};
    this.knownKeys(['phases'], map, PHASE_NAMES);
    const phases: Partial<Record<PhaseName, BuildspecPhase>> = {};
    for (const name of PHASE_NAMES) {
      if (map[name] !== undefined) {
        const phase = this.phase(name, map[name]);
        if (phase !== undefined) phases[name] = phase;
      }
    }
    return phases;
  }

  private phase(name: PhaseName, value: unknown): BuildspecPhase | undefined {
    const path = ['phases', name];
    const map = this.mapping(path, value);
    if (map === undefined) return undefined;
    this.knownKeys(path, map, name === 'install' ? [...PHASE_KEYS, 'runtime-versions'] : PHASE_KEYS);
    if (map['run-as'] !== undefined) this.note([...path, 'run-as'], 'commands run as the current user');

    let onFailure: OnFailure | undefined;
    if (map['on-failure'] !== undefined) {
      const v = this.string([...path, 'on-failure'], map['on-failure']);
      if (v === 'ABORT' || v === 'CONTINUE') onFailure = v;
      else if (v !== undefined) this.problem([...path, 'on-failure'], 'must be ABORT or CONTINUE');
    }

    const runtimeVersions: Record<string, string> = {};
    if (map['runtime-versions'] !== undefined) {
      const rv = this.mapping([...path, 'runtime-versions'], map['runtime-versions']) ?? {};
      for (const [runtime, version] of Object.entries(rv)) {
        const v = this.string([...path, 'runtime-versions', runtime], version);
        if (v !== undefined) runtimeVersions[runtime] = v;
      }
    }

    return {
      commands: this.commandList([...path, 'commands'], map['commands']),
      finally: this.commandList([...path, 'finally'], map['finally']),
      onFailure,
      runtimeVersions,
    };
  }

  private commandList(path: Path, value: unknown): string[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
      this.problem(path, 'must be a list of commands');
      return [];
    }
    const out: string[] = [];
    value.forEach((item: unknown, i) => {
      if (typeof item === 'string') out.push(item);
      else if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
        // The classic YAML trap: `- echo key: value` is a mapping, not a command.
        this.problem(
          [...path, i],
          'must be a string; YAML read this command as a mapping, so quote it (a ": " inside a command needs quotes)',
        );
      } else {
        this.problem([...path, i], 'must be a string');
      }
    });
    return out;
  }

  private artifacts(value: unknown): ArtifactsSpec | undefined {
    const path = ['artifacts'];
    const map = this.mapping(path, value);
    if (map === undefined) return undefined;
    this.knownKeys(path, map, ARTIFACT_KEYS);
    if (map['name'] !== undefined) this.note([...path, 'name'], 'the artifact is a local directory, not a named S3 object');
    if (map['s3-prefix'] !== undefined) this.note([...path, 's3-prefix'], 'nothing is uploaded to S3');
    if (map['secondary-artifacts'] !== undefined) {
      this.note([...path, 'secondary-artifacts'], 'only the primary artifact is collected');
    }
    const files = this.requiredStringList([...path, 'files'], map['files']);
    return {
      files,
      baseDirectory: this.optionalString([...path, 'base-directory'], map['base-directory']),
      discardPaths: this.yesNo([...path, 'discard-paths'], map['discard-paths']),
      excludePaths: this.stringList([...path, 'exclude-paths'], map['exclude-paths'], { allowSingle: true }) ?? [],
      enableSymlinks: this.yesNo([...path, 'enable-symlinks'], map['enable-symlinks']),
    };
  }

  private reports(value: unknown): Record<string, ReportGroupSpec> {
    const map = this.mapping(['reports'], value);
    if (map === undefined) return {};
    const out: Record<string, ReportGroupSpec> = {};
    for (const [group, groupValue] of Object.entries(map)) {
      const path = ['reports', group];
      const g = this.mapping(path, groupValue);
      if (g === undefined) continue;
      this.knownKeys(path, g, REPORT_KEYS);
      let fileFormat: ReportFileFormat = 'JUNITXML';
      if (g['file-format'] !== undefined) {
        // The reference says the value is not case sensitive.
        const v = this.string([...path, 'file-format'], g['file-format'])?.toUpperCase();
        if (v !== undefined && isReportFileFormat(v)) fileFormat = v;
        else if (v !== undefined) this.problem([...path, 'file-format'], `must be one of ${REPORT_FILE_FORMATS.join(', ')}`);
      }
      out[group] = {
        files: this.requiredStringList([...path, 'files'], g['files']),
        baseDirectory: this.optionalString([...path, 'base-directory'], g['base-directory']),
        discardPaths: this.yesNo([...path, 'discard-paths'], g['discard-paths']),
        fileFormat,
      };
    }
    return out;
  }

  private cache(value: unknown): CacheSpec | undefined {
    const path = ['cache'];
    const map = this.mapping(path, value);
    if (map === undefined) return undefined;
    this.knownKeys(path, map, CACHE_KEYS);
    const key = this.optionalString([...path, 'key'], map['key']);
    if (key !== undefined && key.trim() === '') this.problem([...path, 'key'], 'must not be empty');
    let fallbackKeys = this.stringList([...path, 'fallback-keys'], map['fallback-keys']) ?? [];
    if (fallbackKeys.length > MAX_FALLBACK_KEYS) {
      this.problem([...path, 'fallback-keys'], `lists ${fallbackKeys.length} keys; CodeBuild supports up to ${MAX_FALLBACK_KEYS}`);
    }
    if (key === undefined && fallbackKeys.length > 0) {
      // The reference: "This sequence will be ignored if key is not provided."
      this.note([...path, 'fallback-keys'], 'CodeBuild ignores fallback keys when there is no key');
      fallbackKeys = [];
    }
    let restore = true;
    let save = true;
    if (map['action'] !== undefined) {
      const action = this.string([...path, 'action'], map['action']);
      if (action === 'restore') save = false;
      else if (action === 'save') restore = false;
      else if (action !== undefined) this.problem([...path, 'action'], 'must be restore or save (omit it for both)');
    }
    return { paths: this.requiredStringList([...path, 'paths'], map['paths']), key, fallbackKeys, restore, save };
  }

  // --- primitive readers -------------------------------------------------

  private mapping(path: Path, value: unknown): Record<string, unknown> | undefined {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    this.problem(path, 'must be a mapping (key: value lines)');
    return undefined;
  }

  private string(path: Path, value: unknown): string | undefined {
    if (typeof value === 'string') return value;
    this.problem(path, 'must be a single value, not a list or a mapping');
    return undefined;
  }

  private optionalString(path: Path, value: unknown): string | undefined {
    return value === undefined ? undefined : this.string(path, value);
  }

  private stringList(path: Path, value: unknown, options: { allowSingle?: boolean } = {}): string[] | undefined {
    if (value === undefined) return undefined;
    if (options.allowSingle === true && typeof value === 'string') return [value];
    if (!Array.isArray(value)) {
      this.problem(path, 'must be a list');
      return undefined;
    }
    const out: string[] = [];
    value.forEach((item: unknown, i) => {
      if (typeof item === 'string') out.push(item);
      else this.problem([...path, i], 'must be a string');
    });
    return out;
  }

  private requiredStringList(path: Path, value: unknown): string[] {
    if (value === undefined) {
      this.problem(path, 'is required');
      return [];
    }
    const list = this.stringList(path, value) ?? [];
    if (Array.isArray(value) && value.length === 0) this.problem(path, 'must list at least one path');
    return list;
  }

  /** CodeBuild spells booleans `yes`/`no` in its reference; `true`/`false` are accepted too. */
  private yesNo(path: Path, value: unknown): boolean {
    if (value === undefined) return false;
    const v = this.string(path, value)?.toLowerCase();
    if (v === 'yes' || v === 'true') return true;
    if (v === 'no' || v === 'false') return false;
    if (v !== undefined) this.problem(path, 'must be yes or no');
    return false;
  }

  private knownKeys(path: Path, map: Record<string, unknown>, allowed: readonly string[]): void {
    for (const key of Object.keys(map)) {
      if (!allowed.includes(key)) this.problem([...path, key], `is not a buildspec key here; expected one of ${allowed.join(', ')}`);
    }
  }

  private note(path: Path, reason: string): void {
    this.notEmulated.push({ key: keyName(path), reason });
  }

  private problem(path: Path, problem: string): void {
    this.problems.push({ key: keyName(path), line: this.lineOf(path), problem });
  }

  private lineOf(path: Path): number | undefined {
    return lineOfPath(this.doc, this.lineCounter, path);
  }
}

/**
 * Finds the line of a key in buildspec text, for problems found after parsing
 * (the runner's local limitations). Key paths as in errors: `['cache', 'paths', 0]`.
 */
export function keyLocator(text: string): (path: Path) => number | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { schema: 'failsafe', lineCounter });
  return (path) => lineOfPath(doc, lineCounter, path);
}

/** The line of the deepest key of `path` present in the document (a key's own line, not its value's). */
function lineOfPath(doc: Document, lineCounter: LineCounter, path: Path): number | undefined {
  const rangeLine = (node: unknown): number | undefined => {
    const range = (node as { range?: readonly number[] } | null | undefined)?.range;
    return range?.[0] === undefined ? undefined : lineCounter.linePos(range[0]).line;
  };
  let node: unknown = doc.contents;
  let line = rangeLine(node);
  for (const step of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === step);
      if (pair === undefined) break;
      line = rangeLine(pair.key) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof step === 'number') {
      const item: unknown = node.items[step];
      if (item === undefined) break;
      line = rangeLine(item) ?? line;
      node = item;
    } else {
      break;
    }
  }
  return line;
}

function isReportFileFormat(value: string): value is ReportFileFormat {
  return (REPORT_FILE_FORMATS as readonly string[]).includes(value);
}

/** `['phases', 'build', 'commands', 2]` → `phases.build.commands[2]`. */
export function keyName(path: Path): string {
  if (path.length === 0) return '(top level)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
