import { configKeys, SERVICE_NAME, type ConfigKey } from '@conveyor/config';
import { z } from 'zod';

/**
 * The deploy config's shape, defaults and rules. `deploy-config.ts` holds the
 * values; this file says what they may be. `parseDeployConfig` is called once,
 * from `bin/app.ts`, and everything below it receives the typed result.
 */

const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]{0,31}$/;
// The AWS::EC2::Instance types look like t3.small, m7g.large, c6in.2xlarge.
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
const CONNECTION_ARN = /^arn:aws[a-z-]*:(codestar-connections|codeconnections):([a-z]{2}(-[a-z]+)+-\d):\d{12}:connection\/[0-9a-f-]{36}$/;
const CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:([a-z]{2}(-[a-z]+)+-\d):\d{12}:certificate\/[0-9a-f-]{36}$/;
const REPOSITORY_PART = /^[A-Za-z0-9_.-]{1,100}$/;
// A DNS name of at least two labels, lowercase (what a certificate names).
const DOMAIN_NAME = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
// An account has at most one IAM OIDC provider per issuer URL: GitHub Actions' is token.actions.githubusercontent.com.
const GITHUB_OIDC_PROVIDER_ARN = /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/;

/**
 * The connection ARN shipped in the example config. It is well formed so that
 * a fresh clone synthesizes, and the app warns while it is still in place.
 */
export const PLACEHOLDER_CONNECTION_ARN =
  'arn:aws:codeconnections:us-east-1:123456789012:connection/00000000-0000-0000-0000-000000000000';

const githubSource = z
  .object({
    kind: z.literal('github'),
    connectionArn: z
      .string()
      .regex(CONNECTION_ARN, 'must be a CodeConnections connection ARN (arn:aws:codeconnections:<region>:<account>:connection/<id>)')
      .describe('The connection created (and approved) in the console: Developer Tools > Settings > Connections.'),
    owner: z.string().regex(REPOSITORY_PART, 'must be a GitHub user or organization name').describe('Repository owner.'),
    repo: z.string().regex(REPOSITORY_PART, 'must be a repository name').describe('Repository name.'),
    branch: z.string().min(1).max(255).default('main').describe('The release branch: pushes to it start the pipeline.'),
    ignoredPaths: z
      .array(z.string().min(1))
      .max(8)
      .default(['docs/**', '**/*.md'])
      .describe('Glob patterns of files whose changes alone do not start the pipeline (at most 8).'),
    pullRequestDiffRole: z
      .boolean()
      .default(false)
      .describe(
        'true: the pipeline stack creates a read-only role that pull-request workflows of owner/repo assume through ' +
          "GitHub's OIDC provider to post `cdk diff` (.github/workflows/pull-request.yml).",
      ),
    githubOidcProviderArn: z
      .string()
      .regex(GITHUB_OIDC_PROVIDER_ARN, 'must be the ARN of the account\'s GitHub OIDC provider (arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com)')
      .optional()
      .describe('With pullRequestDiffRole: the GitHub OIDC provider the account already has. Unset: the stack creates it.'),
  })
  .strict()
  .refine((source) => source.githubOidcProviderArn === undefined || source.pullRequestDiffRole, {
    path: ['githubOidcProviderArn'],
    message: 'is used only with pullRequestDiffRole: true; set that too, or remove this field',
  });

const codeCommitSource = z
  .object({
    kind: z.literal('codecommit'),
    repositoryName: z.string().regex(REPOSITORY_PART, 'must be a CodeCommit repository name'),
    create: z.boolean().default(false).describe('true: the stack creates the repository; false: it uses an existing one.'),
    branch: z.string().min(1).max(255).default('main'),
    pullRequestChecks: z
      .boolean()
      .default(true)
      .describe('true: each pull request opened or updated in the repository starts a CodeBuild check that comments its result on the pull request.'),
  })
  .strict();

const alarmThresholds = z
  .object({
    target5xxPerMinute: z.number().int().min(1).default(5).describe('Target 5xx responses per minute that count as failing.'),
    unhealthyHosts: z.number().int().min(1).default(1).describe('Unhealthy targets that count as failing.'),
    p99LatencySeconds: z.number().positive().max(60).default(2).describe('p99 target response time, in seconds, that counts as failing.'),
  })
  .strict();

/** What a blue/green environment does after traffic has moved to the new instances. */
const blueGreenSettings = z
  .object({
    terminationWaitMinutes: z
      .number()
      .int('must be a whole number of minutes')
      .min(0, 'must be from 0 to 2880 minutes (CodeDeploy\'s limit)')
      .max(2880, 'must be from 0 to 2880 minutes (CodeDeploy\'s limit)')
      .default(15)
      .describe(
        'How long the previous (blue) instances keep running after traffic moved to the new (green) ones. ' +
          'An alarm in this window moves traffic back at once; the pipeline\'s deploy action waits it out.',
      ),
  })
  .strict();

/** The retention periods CloudWatch Logs accepts, in days (PutRetentionPolicy's `retentionInDays`). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** What an environment ships to CloudWatch beyond the free metrics: the switches that cost money. */
const observabilitySettings = z
  .object({
    logRetentionDays: z
      .number()
      .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
        message: `must be a retention CloudWatch Logs accepts: ${LOG_RETENTION_DAYS.join(', ')} (days)`,
      })
      .default(30)
      .describe('How long the instances\' log groups (service, CodeDeploy, cloud-init) keep their lines.'),
    instanceMetrics: z
      .boolean()
      .default(true)
      .describe('Disk and memory metrics from the CloudWatch agent (custom metrics, billed per metric), their dashboard widgets and the disk-full alarm.'),
    diskFullPercent: z
      .number()
      .int('must be a whole percentage')
      .min(50, 'must be from 50 to 99 (percent of the volume used)')
      .max(99, 'must be from 50 to 99 (percent of the volume used)')
      .default(85)
      .describe('Disk used, in percent of a volume, at which the disk-full alarm notifies (it never rolls a deployment back).'),
  })
  .strict();

/**
 * The service's config keys each environment stack writes to Parameter Store
 * (as String parameters, from the environment's entry in deploy-config.ts),
 * by the deploy config field that holds the value. `required` must equal the
 * key's `ssmRequired` in packages/config (a test checks it): a key the service
 * needs on AWS must have a value in every environment. Adding a non-secret key
 * the stack writes is one line here, plus its declaration in the service's
 * schema and its values in deploy-config.ts (docs/adapt.md). Secrets never go
 * here: they would sit in the template.
 */
export const stackParameters = {
  greeting: { key: 'GREETING', required: true },
  logLevel: { key: 'LOG_LEVEL', required: false },
} as const satisfies Record<string, { readonly key: ConfigKey; readonly required: boolean }>;

type StackParameters = typeof stackParameters;
type KeySchema<K extends ConfigKey> = (typeof configKeys)[K]['schema'];
/** The key's own rule, without the service's default (the deploy config says what to write). */
type Unwrapped<S> = S extends z.ZodDefault<infer T> ? T : S extends z.ZodOptional<infer T> ? T : S;
type ParameterField<P extends StackParameters[keyof StackParameters]> = P['required'] extends true
  ? Unwrapped<KeySchema<P['key']>>
  : z.ZodOptional<Unwrapped<KeySchema<P['key']>>>;
type ParameterFields = { [F in keyof StackParameters]: ParameterField<StackParameters[F]> };

/** The deploy config fields of `stackParameters`, each validated with the service's own schema for its key. */
function parameterFields(): ParameterFields {
  const fields: Record<string, z.ZodType> = {};
  for (const [field, { key, required }] of Object.entries(stackParameters)) {
    const schema: z.ZodType = configKeys[key].schema;
    const rule = schema instanceof z.ZodDefault || schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema;
    const described = rule.describe(`${key} in Parameter Store for this environment.${required ? '' : ' Unset: the service default.'}`);
    fields[field] = required ? described : described.optional();
  }
  return fields as ParameterFields;
}

const environment = z
  .object({
    name: z.string().regex(ENVIRONMENT_NAME, 'must be lowercase letters, digits and dashes, starting with a letter (at most 32)'),
    instanceType: z.string().regex(INSTANCE_TYPE, 'must be an EC2 instance type such as t3.small'),
    capacity: z
      .object({
        min: z.number().int().min(1).max(100),
        desired: z.number().int().min(1).max(100),
        max: z.number().int().min(1).max(100),
      })
      .strict()
      .refine((c) => c.min <= c.desired && c.desired <= c.max, {
        message: 'must satisfy min <= desired <= max',
      })
      .refine((c) => c.max > c.min, {
        message: 'max must exceed min, so an instance can be replaced before one is removed',
      }),
    deploymentStyle: z.enum(['in-place', 'blue-green']).default('in-place'),
    blueGreen: blueGreenSettings.prefault({}).describe("Settings used when deploymentStyle is 'blue-green'."),
    natGateways: z.number().int().min(1).max(2).default(1).describe('1 is cheaper; 2 keeps egress up if one AZ fails.'),
    certificateArn: z
      .string()
      .regex(CERTIFICATE_ARN, 'must be an ACM certificate ARN')
      .optional()
      .describe('ACM certificate for HTTPS on the load balancer. Unset: HTTP only.'),
    domainName: z
      .string()
      .regex(DOMAIN_NAME, 'must be a lowercase DNS name such as api.example.com')
      .optional()
      .describe(
        'The name your DNS record gives the load balancer, which the certificate covers. The acceptance check calls https://<domainName>; ' +
          'required with certificateArn on every environment before production.',
      ),
    ...parameterFields(),
    alarms: alarmThresholds.prefault({}),
    observability: observabilitySettings.prefault({}).describe('Logs and instance metrics in CloudWatch: retention and the switches that cost money.'),
  })
  .strict();

/** CDK's default bootstrap qualifier (`cdk bootstrap` without `--qualifier`). */
export const DEFAULT_BOOTSTRAP_QUALIFIER = 'hnb659fds';
// `cdk bootstrap --qualifier`: it goes into the bootstrap roles' and bucket's names.
const BOOTSTRAP_QUALIFIER = /^[a-z0-9]{1,10}$/;

/**
 * One field of a CodePipeline DeploymentWindow cron expression (Quartz syntax):
 * its name, the values it takes, the names it accepts for them, and the special
 * characters allowed beyond `, - * /`.
 */
interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly aliases?: readonly string[];
  readonly special?: 'day-of-month' | 'day-of-week';
}
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const CRON_FIELDS: readonly CronField[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, special: 'day-of-month' },
  { name: 'month', min: 1, max: 12, aliases: MONTHS },
  { name: 'day-of-week', min: 1, max: 7, aliases: WEEKDAYS, special: 'day-of-week' },
  { name: 'year', min: 1970, max: 2199 },
];

function cronValue(field: CronField, text: string): boolean {
  const alias = field.aliases?.indexOf(text.toUpperCase()) ?? -1;
  if (alias >= 0) return true;
  if (!/^\d+$/.test(text)) return false;
  const value = Number(text);
  return value >= field.min && value <= field.max;
}

/** Whether one comma-separated item of a cron field is valid for that field. */
function cronItem(field: CronField, item: string): boolean {
  if (item === '*') return true;
  if (item === '?') return field.special !== undefined;
  if (field.special === 'day-of-month') {
    // L (last day), L-n (n days before it, at most 30), LW (last weekday), nW (weekday nearest day n).
    if (item === 'L' || item === 'LW') return true;
    const offset = /^L-(\d{1,2})$/.exec(item)?.[1];
    if (offset !== undefined) return Number(offset) >= 1 && Number(offset) <= 30;
    const weekday = /^(\d{1,2})W$/.exec(item)?.[1];
    if (weekday !== undefined) return cronValue(field, weekday);
  }
  if (field.special === 'day-of-week') {
    if (item === 'L') return true;
    const last = /^(\w+)L$/.exec(item);
    if (last?.[1] !== undefined) return cronValue(field, last[1]);
    const nth = /^(\w+)#([1-5])$/.exec(item);
    if (nth?.[1] !== undefined) return cronValue(field, nth[1]);
  }
  const [range, step, ...rest] = item.split('/');
  if (rest.length > 0 || range === undefined) return false;
  if (step !== undefined && !(/^\d+$/.test(step) && Number(step) >= 1)) return false;
  if (range === '*') return step !== undefined;
  const [from, to, ...more] = range.split('-');
  if (more.length > 0 || from === undefined) return false;
  return cronValue(field, from) && (to === undefined || cronValue(field, to));
}

/**
 * Problems with a DeploymentWindow cron expression, as CodePipeline reads it
 * (Quartz): 6 fields and an optional year, seconds always `*`, and exactly one
 * of day-of-month and day-of-week set to `?`.
 */
export function cronProblems(cron: string): string[] {
  const fields = cron.trim().split(/\s+/);
  if (fields.length < 6 || fields.length > 7) {
    return [`must have 6 or 7 fields (seconds minutes hours day-of-month month day-of-week [year]), found ${fields.length}`];
  }
  const [seconds, ...rest] = fields;
  const problems: string[] = [];
  if (seconds !== '*') problems.push(`the seconds field must be * (CodePipeline allows only * there), found "${seconds}"`);
  rest.forEach((text, index) => {
    const field = CRON_FIELDS[index];
    if (field !== undefined && !text.split(',').every((item) => item !== '' && cronItem(field, item))) {
      problems.push(`the ${field.name} field "${text}" is not valid (${field.min}-${field.max}${field.aliases ? ` or ${field.aliases[0]}-${field.aliases.at(-1)}` : ''}, with , - * /)`);
    }
  });
  const dayOfMonth = rest[2];
  const dayOfWeek = rest[4];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    problems.push('exactly one of day-of-month and day-of-week must be ? (e.g. "* * 9-16 ? * MON-THU")');
  }
  return problems;
}

/**
 * Whether `name` is an IANA time zone name, spelled the way the tz database
 * spells it (`Europe/Berlin`, `UTC`). Intl accepts any letter case; the name
 * must have the database's case, so `europe/berlin` is not accepted here and
 * refused by CodePipeline later.
 */
export function isTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) return false;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return false;
  }
  // Links (Asia/Kolkata resolves to Asia/Calcutta here) are fine; a mere difference of case is not.
  return resolved === name || resolved.toLowerCase() !== name.toLowerCase();
}

/** The pipeline itself: how it reaches the CDK bootstrap roles, and when production may be deployed. */
const pipelineSettings = z
  .object({
    bootstrapQualifier: z
      .string()
      .regex(BOOTSTRAP_QUALIFIER, 'must be the qualifier given to `cdk bootstrap --qualifier` (lowercase letters and digits, at most 10)')
      .default(DEFAULT_BOOTSTRAP_QUALIFIER)
      .describe(
        'The CDK bootstrap qualifier of the account and region: the pipeline deploys the stacks through the bootstrap roles named with it ' +
          '(cdk-<qualifier>-deploy-role-..., cdk-<qualifier>-file-publishing-role-...).',
      ),
    deploymentWindow: z
      .object({
        cron: z
          .string()
          .superRefine((cron, ctx) => {
            for (const message of cronProblems(cron)) ctx.addIssue({ code: 'custom', message });
          })
          .describe('When production may be deployed, as a CodePipeline DeploymentWindow cron, e.g. "* * 9-16 ? * MON-THU".'),
        timeZone: z
          .string()
          .refine(isTimeZone, 'must be an IANA time zone name such as UTC or Europe/Berlin')
          .default('UTC')
          .describe('The time zone the cron is read in.'),
      })
      .strict()
      .optional()
      .describe('Unset: production may be deployed at any time. Set: its Deploy stage fails when entered outside the window.'),
  })
  .strict();

/** The schema of the whole deploy config. */
export const deployConfigSchema = z
  .object({
    region: z.string().regex(REGION, 'must be an AWS region such as eu-west-1'),
    source: z.discriminatedUnion('kind', [githubSource, codeCommitSource]),
    environments: z
      .array(environment)
      .min(1, 'must list at least one environment; the last one is production')
      .max(5),
    notificationEmails: z.array(z.email('must be an email address')).default([]),
    pipeline: pipelineSettings.prefault({}).describe('How the pipeline deploys the stacks, and when it may deploy production.'),
    removalPolicy: z
      .enum(['destroy', 'retain'])
      .default('destroy')
      .describe('What `cdk destroy` does with buckets, keys, logs and reports.'),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.environments.forEach((env, index) => {
      if (seen.has(env.name)) {
        ctx.addIssue({ code: 'custom', path: ['environments', index, 'name'], message: `duplicates environment "${env.name}"` });
      }
      seen.add(env.name);
      // The acceptance check runs after every environment but the last; over HTTPS it needs the name the
      // certificate covers (the load balancer's own DNS name is not one a certificate can name).
      if (env.certificateArn !== undefined && env.domainName === undefined && index < config.environments.length - 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['environments', index, 'domainName'],
          message: 'is required with certificateArn before production: the acceptance check calls https://<domainName>, the name the certificate covers',
        });
      }
      if (env.domainName !== undefined && env.certificateArn === undefined) {
        ctx.addIssue({ code: 'custom', path: ['environments', index, 'domainName'], message: 'needs certificateArn: it names the HTTPS endpoint' });
      }
      const certificateRegion = env.certificateArn?.split(':')[3];
      if (certificateRegion !== undefined && certificateRegion !== config.region) {
        ctx.addIssue({
          code: 'custom',
          path: ['environments', index, 'certificateArn'],
          message: `must be in ${config.region}: a load balancer can only use a certificate from its own region`,
        });
      }
    });
    if (config.source.kind === 'github') {
      const connectionRegion = config.source.connectionArn.split(':')[3];
      if (connectionRegion !== config.region && config.source.connectionArn !== PLACEHOLDER_CONNECTION_ARN) {
        ctx.addIssue({
          code: 'custom',
          path: ['source', 'connectionArn'],
          message: `must be in ${config.region}: the pipeline can only use a connection from its own region`,
        });
      }
    }
  });

/** What you write in deploy-config.ts (defaults may be left out). */
export type DeployConfigInput = z.input<typeof deployConfigSchema>;
/** The validated config, defaults filled in. */
export type DeployConfig = z.output<typeof deployConfigSchema>;
export type EnvironmentConfig = DeployConfig['environments'][number];
export type SourceConfig = DeployConfig['source'];
export type AlarmThresholds = EnvironmentConfig['alarms'];
export type DeploymentStyle = EnvironmentConfig['deploymentStyle'];
export type BlueGreenSettings = EnvironmentConfig['blueGreen'];
export type PipelineSettings = DeployConfig['pipeline'];
export type DeploymentWindow = NonNullable<PipelineSettings['deploymentWindow']>;
export type ObservabilitySettings = EnvironmentConfig['observability'];

/** Thrown when the deploy config is invalid; the message names every bad field by its path. */
export class DeployConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid deploy config (infra/config/deploy-config.ts), ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'DeployConfigError';
  }
}

/**
 * Validates the deploy config and fills in defaults.
 * @throws DeployConfigError naming each invalid field, e.g. `environments[1].capacity: must satisfy min <= desired <= max`.
 */
export function parseDeployConfig(input: unknown): DeployConfig {
  const result = deployConfigSchema.safeParse(input);
  if (!result.success) {
    throw new DeployConfigError(result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`));
  }
  return result.data;
}

/**
 * The values an environment stack writes to Parameter Store, by config key
 * (unset optional fields are left out: the service then uses its default).
 */
export function parameterValues(env: EnvironmentConfig): Partial<Record<ConfigKey, string>> {
  const values: Partial<Record<ConfigKey, string>> = {};
  for (const [field, { key }] of Object.entries(stackParameters)) {
    const value = env[field as keyof StackParameters];
    if (value !== undefined) values[key] = String(value);
  }
  return values;
}

/** The last environment is production: the approval gate stands right before it. */
export function productionEnvironment(config: DeployConfig): EnvironmentConfig {
  const last = config.environments.at(-1);
  if (last === undefined) throw new DeployConfigError(['environments: must list at least one environment']);
  return last;
}

/** The service name every resource name derives from, re-exported so infra has one import for it. */
export { SERVICE_NAME };

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(config)';
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out === '' ? String(part) : `${out}.${String(part)}`), '');
}
