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
const FRAMEWORK_KEYS = ['ServiceToken', 'ServiceTimeout'];

const PROPERTY_NAMES = [
  'ApplicationName',
  'DeploymentGroupName',
  'ServiceRoleArn',
  'FleetName',
  'FleetTagKey',
  'LaunchTemplateId',
  'LaunchTemplateVersion',
  'MinSize',
  'DesiredCapacity',
  'MaxSize',
  'SubnetIds',
  'TargetGroupArn',
  'TargetGroupName',
  'AlarmNames',
  'TerminationWaitMinutes',
  'DeploymentReadyWaitMinutes',
  'HealthCheckType',
  'HealthCheckGracePeriodSeconds',
  'DeploymentConfigName',
  'NotificationTopicArn',
] as const;

type PropertyName = (typeof PROPERTY_NAMES)[number];
type Raw = Readonly<Record<string, unknown>>;

/** The stable physical id: one deployment group (and its fleet) per application and name. */
export function physicalResourceId(props: Pick<FleetProperties, 'applicationName' | 'deploymentGroupName'>): string {
  return `${props.applicationName}:${props.deploymentGroupName}`;
}

/**
 * Parses Create and Update properties. Every problem is reported at once, each
 * naming its property, so one failed deployment shows everything to fix.
 * @throws FleetError when any property is missing or invalid.
 */
export function parseProperties(raw: Raw): FleetProperties {
  const reader = new Reader(raw);
  for (const key of Object.keys(raw)) {
    if (!FRAMEWORK_KEYS.includes(key) && !(PROPERTY_NAMES as readonly string[]).includes(key)) {
      reader.problem(key, 'is not a property of this resource (check the spelling in the construct)');
    }
  }

  const props: FleetProperties = {
    applicationName: reader.string('ApplicationName', { maxLength: LIMITS.codeDeployNameLength }),
    deploymentGroupName: reader.string('DeploymentGroupName', { maxLength: LIMITS.codeDeployNameLength }),
    serviceRoleArn: reader.string('ServiceRoleArn', {
      pattern: /^arn:[\w-]+:iam::\d{12}:role\/.+$/,
      expected: 'an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)',
    }),
    fleetName: reader.string('FleetName', {
      maxLength: LIMITS.autoScalingGroupNameLength,
      // CodeDeploy names its copies CodeDeploy_<deployment group>_<deployment id>; a fleet
      // named like that would be mistaken for a copy of another deployment group.
      pattern: /^(?!CodeDeploy_)/,
      expected: 'an Auto Scaling group name that does not start with "CodeDeploy_"',
    }),
    fleetTagKey: reader.string('FleetTagKey', {
      maxLength: LIMITS.tagKeyLength,
      pattern: /^(?!aws:)/i,
      expected: 'a tag key that does not start with the reserved "aws:" prefix',
    }),
    launchTemplateId: reader.string('LaunchTemplateId', { pattern: /^lt-[0-9a-f]+$/, expected: 'a launch template id (lt-...)' }),
    launchTemplateVersion: reader.string('LaunchTemplateVersion', {
      pattern: /^(?:[1-9]\d*|\$Latest|\$Default)$/,
      expected: 'a version number, "$Latest" or "$Default"',
    }),
    minSize: reader.integer('MinSize', { min: 0, max: Number.MAX_SAFE_INTEGER }),
    desiredCapacity: reader.integer('DesiredCapacity', { min: 0, max: Number.MAX_SAFE_INTEGER }),
    maxSize: reader.integer('MaxSize', { min: 1, max: Number.MAX_SAFE_INTEGER }),
    subnetIds: reader.stringList('SubnetIds', { pattern: /^subnet-[0-9a-f]+$/, expected: 'subnet ids (subnet-...)', minItems: 1 }),
    targetGroupArn: reader.string('TargetGroupArn', {
      pattern: /^arn:[\w-]+:elasticloadbalancing:[\w-]+:\d{12}:targetgroup\/.+$/,
      expected: 'a target group ARN',
    }),
    targetGroupName: reader.string('TargetGroupName', { maxLength: LIMITS.targetGroupNameLength }),
    alarmNames: reader.stringList('AlarmNames', { optional: true, maxItems: LIMITS.alarms, maxLength: LIMITS.alarmNameLength, unique: true }),
    terminationWaitMinutes: reader.integer('TerminationWaitMinutes', LIMITS.terminationWaitMinutes),
    deploymentReadyWaitMinutes: reader.optionalInteger('DeploymentReadyWaitMinutes', LIMITS.deploymentReadyWaitMinutes),
    healthCheckType: reader.oneOf('HealthCheckType', ['EC2', 'ELB'] as const, DEFAULT_HEALTH_CHECK_TYPE),
    healthCheckGracePeriodSeconds: reader.integer('HealthCheckGracePeriodSeconds', { min: 0, max: Number.MAX_SAFE_INTEGER }),
    deploymentConfigName:
      reader.optionalString('DeploymentConfigName', { maxLength: LIMITS.codeDeployNameLength }) ?? DEFAULT_DEPLOYMENT_CONFIG_NAME,
    notificationTopicArn: reader.optionalString('NotificationTopicArn', {
      pattern: /^arn:[\w-]+:sns:[\w-]+:\d{12}:.+$/,
      expected: 'an SNS topic ARN',
    }),
  };

  const sizesAreNumbers = [props.minSize, props.desiredCapacity, props.maxSize].every(Number.isInteger);
  if (sizesAreNumbers && !(props.minSize <= props.desiredCapacity && props.desiredCapacity <= props.maxSize)) {
    reader.problem(
      'DesiredCapacity',
      `must lie between MinSize and MaxSize (got MinSize ${props.minSize}, DesiredCapacity ${props.desiredCapacity}, MaxSize ${props.maxSize})`,
    );
  }
  reader.throwIfAny();
  return props;
}

/**
 * Reads only what a Delete needs. A Delete carries the properties of the last
 * successful Create or Update; if a later handler version validates more
 * strictly, the stack must still be deletable.
 * @throws FleetError when a name needed to find the fleet is missing.
 */
export function parseIdentity(raw: Raw): FleetIdentity {
  const reader = new Reader(raw);
  const identity: FleetIdentity = {
    applicationName: reader.string('ApplicationName', {}),
    deploymentGroupName: reader.string('DeploymentGroupName', {}),
    fleetName: reader.string('FleetName', {}),
    fleetTagKey: reader.string('FleetTagKey', {}),
  };
  reader.throwIfAny();
  return identity;
}

/** A raw scalar property as a string, or undefined; for comparing Update's old properties. */
export function rawString(raw: Raw | undefined, key: PropertyName): string | undefined {
  const value = raw?.[key];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

interface StringRule {
  readonly maxLength?: number;
  readonly pattern?: RegExp;
  /** Said instead of the pattern when the value does not match. */
  readonly expected?: string;
}

interface ListRule extends StringRule {
  readonly optional?: boolean;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly unique?: boolean;
}

/** Collects problems while reading, so all of them are reported together. */
class Reader {
  private readonly problems: string[] = [];

  constructor(private readonly raw: Raw) {}

  problem(key: string, text: string): void {
    this.problems.push(`${key} ${text}`);
  }

  throwIfAny(): void {
    if (this.problems.length > 0) {
      throw new FleetError(
        `Invalid properties for the blue/green fleet custom resource: ${this.problems.join('; ')}. ` +
          'Fix them in the BlueGreen construct or the deploy config and deploy again.',
      );
    }
  }

  string(key: PropertyName, rule: StringRule): string {
    const value = this.optionalString(key, rule);
    if (value === undefined) {
      this.problem(key, 'is required');
      return '';
    }
    return value;
  }

  optionalString(key: PropertyName, rule: StringRule): string | undefined {
    const value = this.raw[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') {
      this.problem(key, `must be a string (got ${describeValue(value)})`);
      return undefined;
    }
    return this.checkString(key, value, rule) ? value : undefined;
  }

  integer(key: PropertyName, range: Range): number {
    const value = this.optionalInteger(key, range);
    if (value === undefined && this.raw[key] === undefined) this.problem(key, 'is required');
    return value ?? Number.NaN;
  }

  optionalInteger(key: PropertyName, range: Range): number | undefined {
    const value = this.raw[key];
    if (value === undefined) return undefined;
    // CloudFormation sends "3"; a direct invocation (or a test) may send 3.
    const text = typeof value === 'number' ? String(value) : value;
    const parsed = typeof text === 'string' && /^\s*-?\d+\s*$/.test(text) ? Number(text) : Number.NaN;
    if (!inRange(parsed, range)) {
      const bounds = range.max === Number.MAX_SAFE_INTEGER ? `of at least ${range.min}` : `from ${range.min} to ${range.max}`;
      this.problem(key, `must be an integer ${bounds} (got ${describeValue(value)})`);
      return undefined;
    }
    return parsed;
  }

  oneOf<T extends string>(key: PropertyName, allowed: readonly T[], fallback: T): T {
    const value = this.raw[key];
    if (value === undefined) return fallback;
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
    this.problem(key, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')} (got ${describeValue(value)})`);
    return fallback;
  }

  stringList(key: PropertyName, rule: ListRule): readonly string[] {
    const value = this.raw[key];
    if (value === undefined) {
      // CloudFormation may drop an empty list from the template altogether.
      if (!rule.optional) this.problem(key, 'is required');
      return [];
    }
    if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) {
      this.problem(key, `must be a list of strings (got ${describeValue(value)})`);
      return [];
    }
    if (rule.minItems !== undefined && value.length < rule.minItems) {
      this.problem(key, `must hold at least ${rule.minItems} item(s)`);
    }
    if (rule.maxItems !== undefined && value.length > rule.maxItems) {
      this.problem(key, `must hold at most ${rule.maxItems} items (got ${value.length})`);
    }
    if (rule.unique && new Set(value).size !== value.length) {
      this.problem(key, 'must not repeat an item');
    }
    value.forEach((item, index) => this.checkString(`${key}[${index}]`, item, rule));
    return value;
  }

  private checkString(key: string, value: string, rule: StringRule): boolean {
    if (value.trim() === '') {
      this.problem(key, 'must not be empty');
      return false;
    }
    if (rule.maxLength !== undefined && value.length > rule.maxLength) {
      this.problem(key, `must be at most ${rule.maxLength} characters (got ${value.length})`);
      return false;
    }
    if (rule.pattern && !rule.pattern.test(value)) {
      this.problem(key, `must be ${rule.expected ?? `a value matching ${String(rule.pattern)}`} (got ${describeValue(value)})`);
      return false;
    }
    return true;
  }
}

function describeValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
