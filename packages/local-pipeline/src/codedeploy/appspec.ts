import { readFileSync } from 'node:fs';

import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';

import { locatorFor, problemsOf } from '../yaml-keys';

/** The lifecycle events CodeDeploy runs on an EC2 instance, in order (in-place, and the green side of blue/green). */
export const INSTALL_EVENTS = ['ApplicationStop', 'DownloadBundle', 'BeforeInstall', 'Install', 'AfterInstall', 'ApplicationStart', 'ValidateService'] as const;

/** Events around the traffic switch (with a load balancer), in order. */
export const TRAFFIC_EVENTS = ['BeforeBlockTraffic', 'BlockTraffic', 'AfterBlockTraffic', 'BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic'] as const;

/** Events that run scripts (DownloadBundle, Install, BlockTraffic and AllowTraffic are the agent's own). */
const SCRIPTABLE_EVENTS = new Set<string>([
  'ApplicationStop', 'BeforeInstall', 'AfterInstall', 'ApplicationStart', 'ValidateService',
  'BeforeBlockTraffic', 'AfterBlockTraffic', 'BeforeAllowTraffic', 'AfterAllowTraffic',
]);

/** CodeDeploy's limit for all scripts of one lifecycle event together. */
export const MAX_EVENT_TIMEOUT_SECONDS = 3600;

export interface HookScript {
  /** Path of the script relative to the revision root. */
  readonly location: string;
  readonly timeoutSeconds: number;
  readonly runas: string | undefined;
}

export interface AppSpec {
  readonly files: readonly { readonly source: string; readonly destination: string }[];
  readonly fileExistsBehavior: 'DISALLOW' | 'OVERWRITE' | 'RETAIN';
  readonly permissions: readonly { readonly object: string; readonly owner?: string; readonly group?: string; readonly mode?: string }[];
  readonly hooks: Readonly<Record<string, readonly HookScript[]>>;
}

export class AppSpecError extends Error {
  constructor(message: string) {
    super(`appspec.yml: ${message}`);
    this.name = 'AppSpecError';
  }
}

const WHOLE_SECONDS = 'must be a whole number of seconds';

const scriptSchema = z.looseObject(
  {
    location: z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a path relative to the revision root') }),
    timeout: z
      .union([z.number(), z.string()], { error: WHOLE_SECONDS })
      .transform(Number)
      .pipe(z.number().int({ error: WHOLE_SECONDS }).min(1, { error: WHOLE_SECONDS }))
      .default(MAX_EVENT_TIMEOUT_SECONDS),
    runas: z.string({ error: 'must be a user name' }).optional(),
  },
  { error: 'must be a mapping with a location' },
);

const eventScripts = z.array(scriptSchema, { error: 'must be a list of scripts' }).superRefine((scripts, ctx) => {
  const total = scripts.reduce((sum, script) => sum + script.timeout, 0);
  if (total > MAX_EVENT_TIMEOUT_SECONDS) {
    ctx.addIssue({ code: 'custom', message: `has timeouts adding up to ${total} s, over CodeDeploy's ${MAX_EVENT_TIMEOUT_SECONDS} s per event` });
  }
});

const appSpecSchema = z.looseObject(
  {
    version: z.unknown().refine((v) => String(v) === '0' || String(v) === '0.0', { error: 'must be 0.0' }),
    os: z.literal('linux', { error: (issue) => `must be linux (got ${JSON.stringify(issue.input)})` }),
    files: z
      .array(
        z.looseObject(
          {
            source: z.string({ error: 'is required' }),
            destination: z.string({ error: 'is required' }).startsWith('/', { error: 'must be an absolute path' }),
          },
          { error: 'needs a source and a destination' },
        ),
        { error: 'must be a list' },
      )
      .default([]),
    file_exists_behavior: z.enum(['DISALLOW', 'OVERWRITE', 'RETAIN'], { error: 'must be DISALLOW, OVERWRITE or RETAIN' }).default('DISALLOW'),
    permissions: z
      .array(
        z.looseObject(
          {
            object: z.string({ error: 'is required' }),
            owner: z.string({ error: 'must be a user name' }).optional(),
            group: z.string({ error: 'must be a group name' }).optional(),
            mode: z.union([z.string(), z.number()], { error: 'must be an octal mode such as 755' }).transform(String).optional(),
          },
          { error: 'needs an object' },
        ),
        { error: 'must be a list' },
      )
      .default([]),
    hooks: z
      .record(z.string(), eventScripts, { error: 'must be a mapping of event names to scripts' })
      .superRefine((hooks, ctx) => {
        for (const event of Object.keys(hooks)) {
          if (!SCRIPTABLE_EVENTS.has(event)) ctx.addIssue({ code: 'custom', path: [event], message: 'is not a lifecycle event that runs scripts' });
        }
      })
      .default({}),
  },
  { error: 'the file is not a YAML mapping' },
);

/**
 * Parses an EC2/on-premises AppSpec file with CodeDeploy's rules, rejecting
 * what the agent would reject, each error naming the key and its line.
 * https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure.html
 */
export function parseAppSpec(text: string): AppSpec {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new AppSpecError(doc.errors.map((e) => `line ${lineCounter.linePos(e.pos[0]).line}: ${e.message}`).join('; '));
  }
  const result = appSpecSchema.safeParse(doc.toJS());
  if (!result.success) {
    const problems = problemsOf(result.error, locatorFor(doc, lineCounter));
    throw new AppSpecError(problems.map((p) => `${p.key} ${p.problem}${p.line === undefined ? '' : ` (line ${p.line})`}`).join('; '));
  }
  const spec = result.data;
  return {
    files: spec.files.map(({ source, destination }) => ({ source, destination })),
    fileExistsBehavior: spec.file_exists_behavior,
    permissions: spec.permissions.map(({ object, owner, group, mode }) => ({
      object,
      ...(owner === undefined ? {} : { owner }),
      ...(group === undefined ? {} : { group }),
      ...(mode === undefined ? {} : { mode }),
    })),
    hooks: Object.fromEntries(
      Object.entries(spec.hooks).map(([event, scripts]) => [
        event,
        scripts.map((script) => ({ location: script.location, timeoutSeconds: script.timeout, runas: script.runas })),
      ]),
    ),
  };
}

export function readAppSpec(file: string): AppSpec {
  return parseAppSpec(readFileSync(file, 'utf8'));
}
