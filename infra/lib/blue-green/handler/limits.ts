/**
 * The API limits the handler checks before it calls AWS, so a bad value fails
 * the stack operation with a message naming the property instead of an opaque
 * validation error halfway through (after the Auto Scaling group exists).
 */
export const LIMITS = {
  /**
   * BlueInstanceTerminationOption.terminationWaitTimeInMinutes: "The maximum setting is 2880 minutes (2 days)."
   * https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_BlueInstanceTerminationOption.html
   */
  terminationWaitMinutes: { min: 0, max: 2880 },
  /**
   * DeploymentReadyOption.waitTimeInMinutes. The API reference states no bound
   * (https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_DeploymentReadyOption.html);
   * the same two days as the termination wait is the conservative cap this project uses.
   */
  deploymentReadyWaitMinutes: { min: 0, max: 2880 },
  /**
   * AlarmConfiguration.alarms: "A maximum of 10 alarms can be added."; an alarm name is at most 255 characters.
   * https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_AlarmConfiguration.html
   */
  alarms: 10,
  alarmNameLength: 255,
  /** CodeDeploy application, deployment group and deployment configuration names: 1 to 100 characters. */
  codeDeployNameLength: 100,
  /** Auto Scaling group names: 1 to 255 characters. */
  autoScalingGroupNameLength: 255,
  /** Tag keys: 1 to 128 characters, not starting with the reserved `aws:` prefix. */
  tagKeyLength: 128,
  /** Elastic Load Balancing target group names: 1 to 32 characters. */
  targetGroupNameLength: 32,
} as const;

/** An inclusive integer range. */
export interface Range {
  readonly min: number;
  readonly max: number;
}

export function inRange(value: number, range: Range): boolean {
  return Number.isInteger(value) && value >= range.min && value <= range.max;
}
