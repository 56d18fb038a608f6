import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as sns from 'aws-cdk-lib/aws-sns';

// A leaf module: the types both deployment styles share. ../deployment-style
// chooses between the styles (./index.ts's in-place and ../blue-green), which
// both import only this seam, so no two folders import each other.

/**
 * The seam between an environment and how releases reach it. An environment
 * stack builds the network, load balancer, launch template and alarms, then
 * asks a deployment style for the part that differs: who owns the Auto Scaling
 * group and how CodeDeploy replaces the running release.
 *
 * - in-place (this file): a stack-owned Auto Scaling group and CDK's
 *   ServerDeploymentGroup; CodeDeploy updates the instances one at a time.
 * - blue/green (../blue-green): CodeDeploy copies the Auto Scaling group on
 *   every release, so a custom resource owns the group and the deployment group
 *   (CloudFormation cannot: docs/decisions/0001). It implements this interface
 *   with the same props, and the pipeline does not change.
 */
export interface IEnvironmentDeployment {
  /** What the pipeline's deploy action targets. */
  readonly deploymentGroup: codedeploy.IServerDeploymentGroup;
}

/** The instance count bounds of an environment. */
export interface Capacity {
  /** Never fewer instances than this. */
  readonly min: number;
  /** How many instances run normally. */
  readonly desired: number;
  /** Never more; must exceed `min` so a replacement can launch before an instance leaves. */
  readonly max: number;
}

/** Everything a deployment style needs; blue/green takes the same. */
export interface EnvironmentDeploymentProps {
  /** The CodeDeploy application shared by every environment. */
  readonly application: codedeploy.IServerApplication;
  /** The deployment group's name, unique within the application. */
  readonly deploymentGroupName: string;
  /** The environment's VPC. */
  readonly vpc: ec2.IVpc;
  /** Where instances launch in. @default - the VPC's private subnets with egress */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** What each instance is made from (blue/green also passes its role and reads its latest version). */
  readonly launchTemplate: ec2.LaunchTemplate;
  /** Instance count bounds, from the deploy config. */
  readonly capacity: Capacity;
  /** CodeDeploy deregisters instances from it before a release and registers them after. */
  readonly targetGroup: elbv2.IApplicationTargetGroup;
  /** Any of them firing stops the deployment and rolls it back. */
  readonly alarms: readonly cloudwatch.IAlarm[];
  /**
   * The alarms among `alarms` that count unhealthy registered targets. Blue/green
   * leaves them out of its deployment group: its first Auto Scaling group is
   * attached to the target group and serves nothing until the first release, so
   * they are in ALARM then and would stop that very release. They still notify.
   * In-place attaches every alarm (its target group is empty until a release).
   * @default - none
   */
  readonly targetHealthAlarms?: readonly cloudwatch.IAlarm[];
  /** Receives Auto Scaling launch and termination events. */
  readonly notificationTopic: sns.ITopic;
}

