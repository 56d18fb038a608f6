import fc from 'fast-check';

import { LOG_RETENTION_DAYS, type DeployConfigInput } from '../config/schema';

type EnvironmentInput = DeployConfigInput['environments'][number];
type SourceInput = DeployConfigInput['source'];

/** What the generated configs may hold. */
export interface GeneratedConfigOptions {
  /**
   * How many environments at most (the schema allows 5; each costs a stack to synthesize).
   * @default 4
   */
  readonly maxEnvironments?: number;
}

/** Regions CDK knows the facts of (load balancer log delivery, partitions). */
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2', 'ap-northeast-1', 'sa-east-1'] as const;
/** x86 and Graviton types: an arm64 type switches the image to the arm64 Amazon Linux. */
const INSTANCE_TYPES = ['t3.micro', 't3.small', 't4g.small', 'm7g.large', 'c6in.2xlarge', 'm5.xlarge'] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Drops the keys whose value is undefined, as a hand-written config leaves an optional field out. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

const optional = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });

const account = fc.stringMatching(/^\d{12}$/);

const environmentName = fc.oneof(
  fc.constantFrom('dev', 'test', 'qa', 'staging', 'preprod', 'prod', 'production'),
  // The schema's whole range, the 32-character names included: every name derived from it must still fit.
  fc.stringMatching(/^[a-z][a-z0-9-]{0,31}$/),
);

const capacity = fc
  .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 6 }), fc.nat({ max: 6 }))
  .map(([min, extra, offset]) => {
    const max = min + extra;
    return { min, desired: min + (offset % (extra + 1)), max };
  });

const alarms = optional(
  fc
    .record({
      target5xxPerMinute: optional(fc.integer({ min: 1, max: 500 })),
      unhealthyHosts: optional(fc.integer({ min: 1, max: 10 })),
      p99LatencySeconds: optional(fc.double({ min: 0.01, max: 60, noNaN: true })),
    })
    .map(defined),
);

const observability = optional(
  fc
    .record({
      logRetentionDays: optional(fc.constantFrom(...LOG_RETENTION_DAYS)),
      instanceMetrics: optional(fc.boolean()),
      diskFullPercent: optional(fc.integer({ min: 50, max: 99 })),
    })
    .map(defined),
);

function environment(region: string): fc.Arbitrary<EnvironmentInput> {
  return fc
    .record({
      name: environmentName,
      instanceType: fc.constantFrom(...INSTANCE_TYPES),
      capacity,
      deploymentStyle: optional(fc.constantFrom('in-place' as const, 'blue-green' as const)),
      blueGreen: optional(fc.record({ terminationWaitMinutes: fc.integer({ min: 0, max: 2880 }) })),
      natGateways: optional(fc.constantFrom(1, 2)),
      https: optional(
        fc.record({
          certificateArn: fc.tuple(account, fc.uuid()).map(([id, uuid]) => `arn:aws:acm:${region}:${id}:certificate/${uuid}`),
          domainName: fc.stringMatching(/^[a-z]([a-z0-9-]{0,18}[a-z0-9])?\.example\.(com|org)$/),
        }),
      ),
      greeting: fc.string({ minLength: 1, maxLength: 100 }).filter((s) => s.trim().length > 0),
      logLevel: optional(fc.constantFrom(...LOG_LEVELS)),
      alarms,
      observability,
    })
    // A certificate comes with the name it covers (required before production, see the schema).
    .map(({ https, ...env }) => defined({ ...env, ...https }) as EnvironmentInput);
}

const repositoryPart = fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$/);
const branch = optional(fc.stringMatching(/^[a-z][a-z0-9/_-]{0,40}$/));

function source(region: string): fc.Arbitrary<SourceInput> {
  const github = fc
    .record({
      kind: fc.constant('github' as const),
      connectionArn: fc
        .tuple(fc.constantFrom('codeconnections', 'codestar-connections'), account, fc.uuid())
        .map(([service, id, uuid]) => `arn:aws:${service}:${region}:${id}:connection/${uuid}`),
      owner: repositoryPart,
      repo: repositoryPart,
      branch,
      ignoredPaths: optional(fc.uniqueArray(fc.constantFrom('docs/**', '**/*.md', 'bench/**', '*.txt', '.github/**'), { maxLength: 5 })),
      // The pull-request diff role, with the stack's own OIDC provider or the account's existing one.
      pullRequestDiff: fc.oneof(
        fc.constant({}),
        fc.record({ pullRequestDiffRole: fc.boolean() }),
        account.map((id) => ({ pullRequestDiffRole: true, githubOidcProviderArn: `arn:aws:iam::${id}:oidc-provider/token.actions.githubusercontent.com` })),
      ),
    })
    .map(({ pullRequestDiff, ...s }) => defined({ ...s, ...pullRequestDiff }) as SourceInput);
  const codeCommit = fc
    .record({
      kind: fc.constant('codecommit' as const),
      // CodeCommit's own rule is stricter than the schema's (no `.git` suffix, no dots only).
      repositoryName: fc.stringMatching(/^[A-Za-z0-9_-]{1,100}$/),
      create: optional(fc.boolean()),
      branch,
      pullRequestChecks: optional(fc.boolean()),
    })
    .map((s) => defined(s) as SourceInput);
  return fc.oneof(github, codeCommit);
}

/** Valid DeploymentWindow crons (Quartz: seconds `*`, one of the two day fields `?`) and IANA zones. */
const deploymentWindow = optional(
  fc
    .record({
      cron: fc
        .tuple(
          fc.constantFrom('*', '0', '0,30', '*/15'),
          fc.constantFrom('*', '9-16', '22-23', '8,12'),
          fc.constantFrom('? * MON-FRI', '? * 2-6', '? JAN-NOV TUE', '1-15 * ?', 'L * ?', '? * MON#2', '? * 6L'),
          fc.constantFrom('', ' *', ' 2026-2030'),
        )
        .map(([minutes, hours, days, year]) => `* ${minutes} ${hours} ${days}${year}`),
      timeZone: optional(fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Sydney')),
    })
    .map(defined),
);

const pipeline = optional(
  fc
    .record({
      bootstrapQualifier: optional(fc.stringMatching(/^[a-z0-9]{1,10}$/)),
      deploymentWindow,
    })
    .map(defined),
);

const email = fc.stringMatching(/^[a-z][a-z0-9]{0,15}@[a-z]{2,12}\.(com|org|io)$/);

/**
 * Valid deploy configs as a fork might write them: either source kind, 1 to
 * `maxEnvironments` environments (unique names) in any mix of in-place and
 * blue/green, any region, capacity, optional certificate, alarms and emails,
 * bootstrap qualifier and production deployment window.
 */
export function deployConfigs(options: GeneratedConfigOptions = {}): fc.Arbitrary<DeployConfigInput> {
  return fc.constantFrom(...REGIONS).chain((region) =>
    fc
      .record({
        region: fc.constant(region),
        source: source(region),
        environments: fc.uniqueArray(environment(region), {
          minLength: 1,
          maxLength: options.maxEnvironments ?? 4,
          selector: (env) => env.name,
        }),
        notificationEmails: optional(fc.uniqueArray(email, { maxLength: 2 })),
        removalPolicy: optional(fc.constantFrom('destroy' as const, 'retain' as const)),
        pipeline,
      })
      .map((config) => defined(config) as DeployConfigInput),
  );
}
