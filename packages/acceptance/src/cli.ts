/**
 * `acceptance-check --url <base url> --commit <sha>`: the acceptance check
 * from a shell (CodeBuild runs it against each environment's load balancer).
 * Prints one line per check on stdout; exits 0 when all pass, 1 when any
 * fails, 2 on bad usage (the message names the flag).
 */
import { parseArgs } from 'node:util';

import { formatCheck, normalizeBaseUrl, runAcceptance } from './check';

export const USAGE = `usage: acceptance-check --url <base url> --commit <sha> [--timeout <seconds>]
  --url <base url>     where the environment answers, e.g. http://my-alb-123.eu-west-1.elb.amazonaws.com
  --commit <sha>       the commit being released: /health must report it (7+ characters of it match too)
  --timeout <seconds>  bound on each request (default 5)`;

class UsageError extends Error {}

interface Output {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

function parse(argv: readonly string[]): { url: string; commit: string; timeoutMs: number } | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { url: { type: 'string' }, commit: { type: 'string' }, timeout: { type: 'string' }, help: { type: 'boolean', default: false } },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  if (values.help) return 'help';
  if (values.url === undefined) throw new UsageError('--url is required');
  let url: string;
  try {
    url = normalizeBaseUrl(values.url);
  } catch (error) {
    throw new UsageError(`--url ${(error as Error).message}`);
  }
  if (values.commit === undefined) throw new UsageError('--commit is required');
  const commit = values.commit.trim();
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(commit)) throw new UsageError(`--commit must be a commit id (letters, digits, . _ -), got "${values.commit}"`);
  const seconds = values.timeout === undefined ? 5 : Number(values.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 300) throw new UsageError(`--timeout must be a number of seconds above 0 and at most 300, got "${values.timeout}"`);
  return { url, commit, timeoutMs: Math.round(seconds * 1000) };
}

/** Runs the CLI on `argv` (without node and the script) and returns its exit code. */
export async function runCli(argv: readonly string[], output: Output): Promise<number> {
  let args;
  try {
    args = parse(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    output.err(`acceptance-check: ${error.message}\n${USAGE}`);
    return 2;
  }
  if (args === 'help') {
    output.out(USAGE);
    return 0;
  }
  const result = await runAcceptance({ baseUrl: args.url, commit: args.commit, timeoutMs: args.timeoutMs });
  for (const check of result.checks) output.out(formatCheck(check));
  return result.passed ? 0 : 1;
}

/** The process entry: the bin shim and `node dist/cli.js` call it. */
export function main(): void {
  runCli(process.argv.slice(2), { out: (line) => console.log(line), err: (line) => console.error(line) }).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`acceptance-check: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}

if (require.main === module) main();
