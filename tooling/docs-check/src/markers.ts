/**
 * Reads a workshop module's markers (`<!-- run ... -->`, `<!-- output -->`,
 * the table in README.md) into steps. A marker that is not exactly one of
 * them fails naming the file and line, so a typo cannot silently skip a step.
 */
import MarkdownIt from 'markdown-it';

/** What the reader should see: lines of a fenced block marked `<!-- output -->`. */
export interface ExpectedOutput {
  /** 1-based line of the output block's opening fence. */
  readonly line: number;
  readonly lines: readonly string[];
}

interface StepBase {
  /** 1-based line of the block's opening fence (or of the marker, for stop). */
  readonly line: number;
}

/** A command that must finish within its timeout with the expected exit code. */
export interface RunStep extends StepBase {
  readonly kind: 'run';
  readonly command: string;
  readonly timeoutSeconds: number;
  readonly expectExit: number;
  readonly output?: ExpectedOutput;
}

/** A long-lived command (a server): started, waited for, stopped later. */
export interface BackgroundStep extends StepBase {
  readonly kind: 'background';
  readonly command: string;
  readonly name: string;
  /** An http(s) URL that answers 200 once the process is ready. */
  readonly ready?: string;
  /** How long it may take to become ready. */
  readonly timeoutSeconds: number;
  /** Checked against everything it printed, once it is stopped. */
  readonly output?: ExpectedOutput;
}

/** Stops background steps by name; no names: every one still running. */
export interface StopStep extends StepBase {
  readonly kind: 'stop';
  readonly names: readonly string[];
  /** What the one stopped process printed on its way out (checked against all it printed). */
  readonly output?: ExpectedOutput;
}

export type Step = RunStep | BackgroundStep | StopStep;

export const DEFAULT_TIMEOUT_SECONDS = 300;

export class MarkerError extends Error {
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.name = 'MarkerError';
  }
}

const MARKER = /^<!--\s*(run|output)\b\s*(?::\s*(.*?))?\s*-->$/s;
const LOOKS_LIKE_MARKER = /^<!--\s*(run|output)\b/;
const SHELL_LANGUAGES = new Set(['sh', 'bash']);
const NAME = /^[a-z][a-z0-9-]*$/;

/** Parses one module's Markdown into its steps, in document order. */
export function parseSteps(markdown: string, file: string): Step[] {
  const tokens = new MarkdownIt('commonmark').parse(markdown, {});
  const steps: Step[] = [];
  let backgroundCount = 0;

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token?.type !== 'html_block') continue;
    const line = (token.map?.[0] ?? 0) + 1;
    const html = token.content.trim();
    if (!LOOKS_LIKE_MARKER.test(html)) continue;
    const match = MARKER.exec(html);
    if (!match) throw new MarkerError(file, line, `malformed marker (one comment alone on its line): ${html.split('\n')[0] ?? ''}`);
    const [, kind, optionText] = match;
    const words = (optionText ?? '').split(/\s+/).filter(Boolean);
    const options = {
      words: words.filter((word) => !word.includes('=')),
      values: new Map(words.filter((word) => word.includes('=')).map((word) => [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)])),
    };
    const fail = (message: string): never => {
      throw new MarkerError(file, line, message);
    };

    if (kind === 'output') {
      if (options.words.length > 0 || options.values.size > 0) fail('<!-- output --> takes no options');
      const fence = tokens[i + 1];
      if (fence?.type !== 'fence') fail('<!-- output --> must come right before a fenced block');
      const last = steps.at(-1);
      if (!last || (last.kind === 'stop' && last.names.length !== 1)) {
        fail('<!-- output --> must follow a runnable block (<!-- run --> or <!-- run: background -->) or a stop of one name');
      }
      if (last?.output) fail(`the block at line ${last.line} already has an output block`);
      const output: ExpectedOutput = { line: (fence?.map?.[0] ?? 0) + 1, lines: (fence?.content ?? '').split('\n') };
      if (last) steps[steps.length - 1] = { ...last, output };
      i++;
      continue;
    }

    const [action, ...rest] = options.words;
    if (action === 'stop') {
      if (options.values.size > 0) fail('stop takes only names: <!-- run: stop api -->');
      const bad = rest.find((name) => !NAME.test(name));
      if (bad !== undefined) fail(`"${bad}" is not a background name (lower case letters, digits, dashes)`);
      steps.push({ kind: 'stop', line, names: rest });
      continue;
    }
    if (action !== undefined && action !== 'background') fail(`unknown word "${action}": expected background, stop or key=value options`);
    if (rest.length > 0) fail(`unexpected "${rest.join(' ')}": options are key=value`);

    const fence = tokens[i + 1];
    if (fence?.type !== 'fence' || !SHELL_LANGUAGES.has(fence.info.trim())) {
      fail('a run marker must come right before a fenced ```sh block');
    }
    const blockLine = (fence?.map?.[0] ?? 0) + 1;
    const command = fence?.content ?? '';
    i++;

    const allowed = action === 'background' ? ['name', 'ready', 'timeout'] : ['timeout', 'expect-exit'];
    for (const key of options.values.keys()) {
      if (!allowed.includes(key)) fail(`unknown option "${key}" for ${action ?? 'run'} (allowed: ${allowed.join(', ')})`);
    }
    const timeoutSeconds = wholeNumber(options.values.get('timeout'), 'timeout', 1, 7_200, fail) ?? DEFAULT_TIMEOUT_SECONDS;

    if (action === 'background') {
      backgroundCount++;
      const name = options.values.get('name') ?? `background-${backgroundCount}`;
      if (!NAME.test(name)) fail(`name "${name}" must be lower case letters, digits and dashes`);
      const ready = options.values.get('ready');
      if (ready !== undefined && !/^https?:\/\/[^\s]+$/.test(ready)) fail(`ready must be an http(s) URL, got "${ready}"`);
      steps.push({ kind: 'background', line: blockLine, command, name, timeoutSeconds, ...(ready !== undefined ? { ready } : {}) });
    } else {
      const expectExit = wholeNumber(options.values.get('expect-exit'), 'expect-exit', 0, 255, fail) ?? 0;
      steps.push({ kind: 'run', line: blockLine, command, timeoutSeconds, expectExit });
    }
  }
  return steps;
}

function wholeNumber(value: string | undefined, key: string, min: number, max: number, fail: (message: string) => never): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) fail(`${key} must be a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}
