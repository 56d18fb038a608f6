import { z } from 'zod';

import { FleetError } from './errors';
import { inRange, LIMITS, type Range } from './limits';

/**
 * The custom resource's properties once parsed. CloudFormation passes every
 * scalar as a string (numbers and booleans included) and lists as lists of
 * strings, so the raw ResourceProperties are parsed and validated here, and a
 * bad value fails with a message naming the property.
 */
export interface FleetProperties {
  /** An existing CodeDeploy application (EC2/on-premises compute platform). */
  readonly applicationName: string;
  readonly deploymentGroupName: string;
  /** The role CodeDeploy assumes to copy the Auto Scaling group and move traffic. */
  readonly serviceRoleArn: string;
  /** Name of the first Auto Scaling group, and the value of the fleet tag. */
  readonly fleetName: string;
  /** Tag key put on the first group (propagated to instances) so every group of the fleet can be found. */
  readonly fleetTagKey: string;
  readonly launchTemplateId: string;
  /** A version number, `$Latest` or `$Default`. */
  readonly launchTemplateVersion: string;
  readonly minSize: number;
  readonly desiredCapacity: number;
  readonly maxSize: number;
  readonly subnetIds: readonly string[];
  /** Attached to the Auto Scaling group. */
  readonly targetGroupArn: string;
  /** Named in the deployment group's load balancer info. */
  readonly targetGroupName: string;
  /** CloudWatch alarms that stop and roll back a deployment; none disables alarm monitoring. */
  readonly alarmNames: readonly string[];
  /** How long blue instances keep running after a successful deployment. */
  readonly terminationWaitMinutes: number;
  /** Unset: traffic moves as soon as green is ready. Set: wait this long for a manual ContinueDeployment, then stop. */
  readonly deploymentReadyWaitMinutes: number | undefined;
  /** 'ELB' replaces instances the target group marks unhealthy; 'EC2' only looks at instance status checks. */
  readonly healthCheckType: HealthCheckType;
  readonly healthCheckGracePeriodSeconds: number;
  readonly deploymentConfigName: string;
  /** Receives the first group's launch and termination events; CodeDeploy's copies inherit the configuration. */
  readonly notificationTopicArn: string | undefined;
}

export type HealthCheckType = 'EC2' | 'ELB';

/** The properties a Delete needs, read leniently so a stricter handler never blocks a stack deletion. */
export type FleetIdentity = Pick<FleetProperties, 'applicationName' | 'deploymentGroupName' | 'fleetName' | 'fleetTagKey'>;

export const DEFAULT_DEPLOYMENT_CONFIG_NAME = 'CodeDeployDefault.AllAtOnce';
const DEFAULT_HEALTH_CHECK_TYPE: HealthCheckType = 'ELB';

/** Keys CloudFormation (or the CDK CustomResource) adds on its own. */
type FrameworkKey = 'ServiceToken' | 'ServiceTimeout';

type PropertyName =
  | 'ApplicationName'
  | 'DeploymentGroupName'
  | 'ServiceRoleArn'
  | 'FleetName'
  | 'FleetTagKey'
  | 'LaunchTemplateId'
  | 'LaunchTemplateVersion'
  | 'MinSize'
  | 'DesiredCapacity'
  | 'MaxSize'
  | 'SubnetIds'
  | 'TargetGroupArn'
  | 'TargetGroupName'
  | 'AlarmNames'
  | 'TerminationWaitMinutes'
  | 'DeploymentReadyWaitMinutes'
  | 'HealthCheckType'
  | 'HealthCheckGracePeriodSeconds'
  | 'DeploymentConfigName'
  | 'NotificationTopicArn';
type Raw = Readonly<Record<string, unknown>>;

// --- zod schemas: one per kind of value, each message completing "<Property> ..." ---

interface StringRule {
  readonly maxLength?: number;
  readonly pattern?: RegExp;
  /** Said instead of the pattern when the value does not match. */
  readonly expected?: string;
}

/** A non-empty string within a length and pattern; each check stops at the first failure, as one message per property reads best. */
function text(rule: StringRule = {}) {
  let schema = z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : `must be a string (got ${describeValue(issue.input)})`) })
    .refine((value) => value.trim() !== '', { error: 'must not be empty', abort: true });
  if (rule.maxLength !== undefined) {
    const max = rule.maxLength;
    schema = schema.refine((value) => value.length <= max, {
      error: (issue) => `must be at most ${max} characters (got ${String((issue.input as string).length)})`,
      abort: true,
    });
  }
  if (rule.pattern !== undefined) {
    const pattern = rule.pattern;
    schema = schema.refine((value) => pattern.test(value), {
      error: (issue) => `must be ${rule.expected ?? `a value matching ${String(pattern)}`} (got ${describeValue(issue.input)})`,
      abort: true,
    });
  }
  return schema;
}

/**
 * An integer in a range. CloudFormation sends "3"; a direct invocation (or a
 * test) may send 3; both are accepted.
 */
function integer(range: Range) {
  const bounds = range.max === Number.MAX_SAFE_INTEGER ? `of at least ${range.min}` : `from ${range.min} to ${range.max}`;
  return z.unknown().transform((value, ctx) => {
    if (value === undefined) {
      ctx.addIssue({ code: 'custom', message: 'is required' });
      return z.NEVER;
    }
    const asText = typeof value === 'number' ? String(value) : value;
    const parsed = typeof asText === 'string' && /^\s*-?\d+\s*$/.test(asText) ? Number(asText) : Number.NaN;
    if (!inRange(parsed, range)) {
      ctx.addIssue({ code: 'custom', message: `must be an integer ${bounds} (got ${describeValue(value)})` });
      return z.NEVER;
    }
    return parsed;
  });
}

interface ListRule extends StringRule {
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly unique?: boolean;
}

/** A list of strings; each item is checked like `text`, and reported as `<Property>[<index>]`. */
function textList(rule: ListRule) {
  let schema = z.array(text(rule), {
    error: (issue) => (issue.input === undefined ? 'is required' : `must be a list of strings (got ${describeValue(issue.input)})`),
  });
  if (rule.minItems !== undefined) schema = schema.min(rule.minItems, { error: `must hold at least ${rule.minItems} item(s)` });
  if (rule.maxItems !== undefined) {
    const max = rule.maxItems;
    schema = schema.max(max, { error: (issue) => `must hold at most ${max} items (got ${String((issue.input as unknown[]).length)})` });
  }
  if (rule.unique) return schema.refine((items) => new Set(items).size === items.length, { error: 'must not repeat an item' });
  return schema;
}

const AUTO_SCALING_NAME = {
  maxLength: LIMITS.autoScalingGroupNameLength,
  // CodeDeploy names its copies CodeDeploy_<deployment group>_<deployment id>; a fleet
  // named like that would be mistaken for a copy of another deployment group.
  pattern: /^(?!CodeDeploy_)/,
  expected: 'an Auto Scaling group name that does not start with "CodeDeploy_"',
};
const TAG_KEY = {
  maxLength: LIMITS.tagKeyLength,
  pattern: /^(?!aws:)/i,
  expected: 'a tag key that does not start with the reserved "aws:" prefix',
};

/** Create and Update: every property, unknown keys refused (a misspelt key would otherwise be ignored silently). */
const propertiesSchema = z
  .object({
    ServiceToken: z.unknown().optional(),
    ServiceTimeout: z.unknown().optional(),
    ApplicationName: text({ maxLength: LIMITS.codeDeployNameLength }),
    DeploymentGroupName: text({ maxLength: LIMITS.codeDeployNameLength }),
    ServiceRoleArn: text({ pattern: /^arn:[\w-]+:iam::\d{12}:role\/.+$/, expected: 'an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)' }),
    FleetName: text(AUTO_SCALING_NAME),
    FleetTagKey: text(TAG_KEY),
    LaunchTemplateId: text({ pattern: /^lt-[0-9a-f]+$/, expected: 'a launch template id (lt-...)' }),
    LaunchTemplateVersion: text({ pattern: /^(?:[1-9]\d*|\$Latest|\$Default)$/, expected: 'a version number, "$Latest" or "$Default"' }),
    MinSize: integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    DesiredCapacity: integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    MaxSize: integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    SubnetIds: textList({ pattern: /^subnet-[0-9a-f]+$/, expected: 'subnet ids (subnet-...)', minItems: 1 }),
    TargetGroupArn: text({ pattern: /^arn:[\w-]+:elasticloadbalancing:[\w-]+:\d{12}:targetgroup\/.+$/, expected: 'a target group ARN' }),
    TargetGroupName: text({ maxLength: LIMITS.targetGroupNameLength }),
    // CloudFormation may drop an empty list from the template altogether.
    AlarmNames: textList({ maxItems: LIMITS.alarms, maxLength: LIMITS.alarmNameLength, unique: true }).default([]),
    TerminationWaitMinutes: integer(LIMITS.terminationWaitMinutes),
    DeploymentReadyWaitMinutes: integer(LIMITS.deploymentReadyWaitMinutes).optional(),
    HealthCheckType: z
      .enum(['EC2', 'ELB'], { error: (issue) => `must be one of "EC2", "ELB" (got ${describeValue(issue.input)})` })
      .default(DEFAULT_HEALTH_CHECK_TYPE),
    HealthCheckGracePeriodSeconds: integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    DeploymentConfigName: text({ maxLength: LIMITS.codeDeployNameLength }).default(DEFAULT_DEPLOYMENT_CONFIG_NAME),
    NotificationTopicArn: text({ pattern: /^arn:[\w-]+:sns:[\w-]+:\d{12}:.+$/, expected: 'an SNS topic ARN' }).optional(),
  } satisfies Record<PropertyName | FrameworkKey, z.ZodType>)
  .strict()
  .check((ctx) => {
    const { MinSize: min, DesiredCapacity: desired, MaxSize: max } = ctx.value;
    if (!(min <= desired && desired <= max)) {
      ctx.issues.push({
        code: 'custom',
        path: ['DesiredCapacity'],
        input: desired,
        message: `must lie between MinSize and MaxSize (got MinSize ${min}, DesiredCapacity ${desired}, MaxSize ${max})`,
      });
    }
  });

/** Delete: only the names that find the fleet, any other key tolerated. */
const identitySchema = z.looseObject({
  ApplicationName: text(),
  DeploymentGroupName: text(),
  FleetName: text(),
  FleetTagKey: text(),
});

/**
 * Parses Create and Update properties. Every problem is reported at once, each
 * naming its property, so one failed deployment shows everything to fix.
 * @throws FleetError when any property is missing or invalid.
 */
export function parseProperties(raw: Raw): FleetProperties {
  const p = parseOrThrow(propertiesSchema, raw);
  return {
    applicationName: p.ApplicationName,
    deploymentGroupName: p.DeploymentGroupName,
    serviceRoleArn: p.ServiceRoleArn,
    fleetName: p.FleetName,
    fleetTagKey: p.FleetTagKey,
    launchTemplateId: p.LaunchTemplateId,
    launchTemplateVersion: p.LaunchTemplateVersion,
    minSize: p.MinSize,
    desiredCapacity: p.DesiredCapacity,
    maxSize: p.MaxSize,
    subnetIds: p.SubnetIds,
    targetGroupArn: p.TargetGroupArn,
    targetGroupName: p.TargetGroupName,
    alarmNames: p.AlarmNames,
    terminationWaitMinutes: p.TerminationWaitMinutes,
    deploymentReadyWaitMinutes: p.DeploymentReadyWaitMinutes,
    healthCheckType: p.HealthCheckType,
    healthCheckGracePeriodSeconds: p.HealthCheckGracePeriodSeconds,
    deploymentConfigName: p.DeploymentConfigName,
    notificationTopicArn: p.NotificationTopicArn,
  };
}

/**
 * Reads only what a Delete needs. A Delete carries the properties of the last
 * successful Create or Update; if a later handler version validates more
 * strictly, the stack must still be deletable.
 * @throws FleetError when a name needed to find the fleet is missing.
 */
export function parseIdentity(raw: Raw): FleetIdentity {
  const p = parseOrThrow(identitySchema, raw);
  return { applicationName: p.ApplicationName, deploymentGroupName: p.DeploymentGroupName, fleetName: p.FleetName, fleetTagKey: p.FleetTagKey };
}

/** A raw scalar property as a string, or undefined; for comparing Update's old properties. */
export function rawString(raw: Raw | undefined, key: PropertyName): string | undefined {
  const value = raw?.[key];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

function parseOrThrow<T extends z.ZodType>(schema: T, raw: Raw): z.output<T> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => `${key} is not a property of this resource (check the spelling in the construct)`)
      : [`${pathOf(issue.path)} ${issue.message}`],
  );
  throw new FleetError(
    `Invalid properties for the blue/green fleet custom resource: ${problems.join('; ')}. ` +
      'Fix them in the BlueGreen construct or the deploy config and deploy again.',
  );
}

/** ['SubnetIds', 1] → SubnetIds[1] */
function pathOf(path: readonly PropertyKey[]): string {
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index > 0 ? '.' : ''}${String(part)}`)).join('');
}

function describeValue(value: unknown): string {
  const textValue = JSON.stringify(value) ?? String(value);
  return textValue.length > 80 ? `${textValue.slice(0, 77)}...` : textValue;
}
