// Runs buildspec commands so that state carries over from one to the next.
//
// The reference: "In buildspec version 0.1, CodeBuild runs each command in a
// separate instance of the default shell [...] you cannot run a single command
// that relies on the state of any previous commands (for example, changing
// directories or setting environment variables)." Version 0.2 lifts that
// limit.
// https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html#build-spec.phases
//
// So in 0.2 the working directory and exported variables persist across
// commands and phases. A command that runs `exit 1` fails only itself, though:
// its phase fails, `finally` and later phases still run (buildspecs rely on
// `[ "$CODEBUILD_BUILD_SUCCEEDING" = 1 ] || exit 1` in post_build). One
// long-lived bash process cannot do both, since `exit` would end it. So each
// command runs in its own bash, started with the environment and directory the
// previous command left behind; an EXIT trap records them, whatever way the
// command ends. Unexported shell variables and functions do not carry over:
// `export` what later commands need.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { isDirectory } from './glob';

/** Variables bash maintains itself; carrying them over would make SHLVL climb and PWD disagree with cwd. */
const SHELL_MANAGED = new Set(['SHLVL', '_', 'PWD']);

/**
 * The wrapper every command runs in. It takes the state file paths and the
 * command as positional parameters, clears them so the command sees none, and
 * dumps the exported environment NUL-separated (values may contain newlines)
 * plus $PWD when bash exits. `compgen -e` lists exported names; bash only.
 */
const WRAPPER = `
__cb_env_file=$1; __cb_cwd_file=$2; __cb_command=$3
set --
exec 2>&1
__cb_save() {
  __cb_status=$?
  IFS=$' \\t\\n'
  for __cb_name in $(compgen -e); do printf '%s=%s\\0' "$__cb_name" "\${!__cb_name}"; done > "$__cb_env_file"
  printf '%s' "$PWD" > "$__cb_cwd_file"
  exit "$__cb_status"
}
trap __cb_save EXIT
eval "$__cb_command"
`;

/** Longest line kept for the failure report. */
const MAX_LINE_CHARS = 4_000;

/** How long to wait for output after a command exits, in case it left a background process holding the pipe. */
const OUTPUT_GRACE_MS = 1_000;

export interface CommandOutcome {
  readonly exitCode: number;
  /** The last lines the command printed (stdout and stderr interleaved). */
  readonly tail: readonly string[];
}

export interface BuildShellOptions {
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** A directory for the two small state files. */
  readonly stateDir: string;
  /**
   * Absolute path of bash, found once on the parent's PATH: the build may set
   * PATH to anything (the reference's own example sets it to a literal
   * `$PATH:/usr/share/ant/bin`), and bash must still start.
   */
  readonly bash: string;
  /** Receives the command's output as it arrives. */
  readonly onOutput: (text: string) => void;
  /** How many trailing output lines to keep for a failure report. @default 30 */
  readonly tailLines?: number;
}

export class BuildShell {
  private env: Record<string, string>;
  private cwd: string;
  private readonly envFile: string;
  private readonly cwdFile: string;

  constructor(private readonly options: BuildShellOptions) {
    this.env = { ...options.env };
    this.cwd = options.cwd;
    this.envFile = path.join(options.stateDir, 'shell-env');
    this.cwdFile = path.join(options.stateDir, 'shell-cwd');
  }

  /** The exported environment after the last command. */
  get currentEnv(): Readonly<Record<string, string>> {
    return this.env;
  }

  /** The working directory after the last command. */
  get currentCwd(): string {
    return this.cwd;
  }

  /**
   * Runs one command. `set` values win over the carried-over environment: the
   * runner uses it for CODEBUILD_BUILD_SUCCEEDING, which CodeBuild owns.
   */
  async run(command: string, set: Readonly<Record<string, string>> = {}): Promise<CommandOutcome> {
    rmSync(this.envFile, { force: true });
    rmSync(this.cwdFile, { force: true });
    const env = { ...this.env, ...set };
    const tail = new Tail(this.options.tailLines ?? 30);

    const exitCode = await new Promise<number>((resolve, reject) => {
      const child = spawn(this.options.bash, ['--noprofile', '--norc', '-c', WRAPPER, 'bash', this.envFile, this.cwdFile, command], {
        cwd: this.cwd,
        env,
        // No stdin, as in CodeBuild: a command waiting for input fails instead of hanging.
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const onData = (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        tail.push(text);
        this.options.onOutput(text);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('error', reject);

      let code: number | undefined;
      let timer: NodeJS.Timeout | undefined;
      child.on('exit', (exit, signal) => {
        code = exit ?? 128 + signalNumber(signal);
        // A background process (`server &`) keeps the pipes open; do not wait for it forever.
        timer = setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
          resolve(code ?? 1);
        }, OUTPUT_GRACE_MS);
      });
      child.on('close', () => {
        if (timer !== undefined) clearTimeout(timer);
        resolve(code ?? 1);
      });
    });

    this.captureState(set);
    // The files hold every exported value, overrides standing in for secrets included: do not leave them behind.
    rmSync(this.envFile, { force: true });
    rmSync(this.cwdFile, { force: true });
    return { exitCode, tail: tail.lines() };
  }

  /** Adopts the environment and directory the command left behind, if it recorded them. */
  private captureState(set: Readonly<Record<string, string>>): void {
    if (existsSync(this.envFile)) {
      const next: Record<string, string> = {};
      for (const entry of readFileSync(this.envFile, 'utf8').split('\0')) {
        const eq = entry.indexOf('=');
        if (eq <= 0) continue;
        const name = entry.slice(0, eq);
        if (!SHELL_MANAGED.has(name) && !(name in set)) next[name] = entry.slice(eq + 1);
      }
      // Values the runner set for this command only are restored from before it.
      for (const name of Object.keys(set)) {
        const previous = this.env[name];
        if (previous !== undefined) next[name] = previous;
      }
      this.env = next;
    }
    if (existsSync(this.cwdFile)) {
      const cwd = readFileSync(this.cwdFile, 'utf8');
      // The command may have removed the directory it was in; stay where we were then.
      if (cwd !== '' && isDirectory(cwd)) this.cwd = cwd;
    }
  }
}

/** Keeps the last N lines of a stream of text chunks. */
class Tail {
  private readonly buffer: string[] = [];
  private partial = '';

  constructor(private readonly max: number) {}

  push(text: string): void {
    const parts = (this.partial + text).split('\n');
    // A progress bar redrawn with \r never ends its line; keep only its end.
    this.partial = (parts.pop() ?? '').slice(-MAX_LINE_CHARS);
    for (const line of parts) {
      this.buffer.push(line);
      if (this.buffer.length > this.max) this.buffer.shift();
    }
  }

  lines(): string[] {
    const all = this.partial === '' ? [...this.buffer] : [...this.buffer, this.partial];
    return all.slice(-this.max);
  }
}

/** Finds an executable on a PATH value, e.g. bash on the parent's PATH. */
export function findExecutable(name: string, pathValue: string | undefined): string | undefined {
  for (const dir of (pathValue ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Not here; try the next directory.
    }
  }
  return undefined;
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 0 : os.constants.signals[signal];
}
