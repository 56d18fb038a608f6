import { CfnOutput, Duration, RemovalPolicy, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';

import { parameterValues, type EnvironmentConfig } from '../../config/schema';
import { ServiceAlarms } from '../alarms';
import { InPlaceDeployment, type IEnvironmentDeployment } from '../deployment';
import { createEnvironmentDeployment } from '../deployment-style';
import { EnvironmentDashboard } from '../dashboard';
import { Fleet, MOUNT_POINTS } from '../fleet';
import { ServiceLoadBalancer } from '../load-balancer';
import { names, SERVICE_NAME } from '../names';
import { Network } from '../network';
import { NotificationTopic } from '../notifications';
import { Observability } from '../observability';
import { ServiceParameters } from '../parameters';
import { SecureBucket } from '../secure-bucket';

export interface EnvironmentStackProps extends StackProps {
  /** This environment's entry in the deploy config. */
  readonly environment: EnvironmentConfig;
  /** The CodeDeploy application the deployment group belongs to. */
  readonly application: codedeploy.IServerApplication;
  /** Who is told about alarms and scaling events. */
  readonly notificationEmails: readonly string[];
  /** What `cdk destroy` does with the log bucket. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * One environment: its network, load balancer, parameters, instance template,
 * alarms and the deployment group the pipeline deploys to.
 */
export class EnvironmentStack extends Stack {
  /** The environment's name from the deploy config. */
  readonly environmentName: string;
  readonly vpc: ec2.IVpc;
  readonly deployment: IEnvironmentDeployment;
  readonly loadBalancer: ServiceLoadBalancer;
  readonly parameters: ServiceParameters;
  readonly alarms: ServiceAlarms;
  readonly fleet: Fleet;
  readonly observability: Observability;
  readonly dashboard: EnvironmentDashboard;

  constructor(scope: Construct, id: string, props: EnvironmentStackProps) {
    const { environment: env } = props;
    super(scope, id, { description: `${SERVICE_NAME}: the ${env.name} environment`, ...props });
    this.environmentName = env.name;
    Tags.of(this).add('environment', env.name);

    const logs = new SecureBucket(this, 'Logs', {
      expiration: Duration.days(90),
      removalPolicy: props.removalPolicy,
    });
    const network = new Network(this, 'Network', { natGateways: env.natGateways, flowLogsBucket: logs.bucket });
    this.vpc = network.vpc;

    this.parameters = new ServiceParameters(this, 'Parameters', {
      environmentName: env.name,
      values: parameterValues(env),
    });

    this.loadBalancer = new ServiceLoadBalancer(this, 'LoadBalancer', {
      vpc: network.vpc,
      accessLogsBucket: logs.bucket,
      certificate: env.certificateArn ? acm.Certificate.fromCertificateArn(this, 'Certificate', env.certificateArn) : undefined,
    });

    this.observability = new Observability(this, 'Observability', {
      environmentName: env.name,
      settings: env.observability,
      removalPolicy: props.removalPolicy,
      diskMountPoints: MOUNT_POINTS,
    });

    this.fleet = new Fleet(this, 'Fleet', {
      vpc: network.vpc,
      environmentName: env.name,
      instanceType: new ec2.InstanceType(env.instanceType),
      loadBalancerSecurityGroup: this.loadBalancer.securityGroup,
      parameters: this.parameters,
      cloudWatchAgentConfig: this.observability.agentConfig,
    });
    this.observability.grantInstanceWrite(this.fleet.role);

    const notifications = new NotificationTopic(this, 'Notifications', {
      displayName: `${SERVICE_NAME} ${env.name}`,
      emails: props.notificationEmails,
    });
    this.alarms = new ServiceAlarms(this, 'Alarms', {
      environmentName: env.name,
      targetGroup: this.loadBalancer.targetGroup,
      thresholds: env.alarms,
      topic: notifications.topic,
    });

    const deploymentSettings = {
      style: env.deploymentStyle,
      blueGreen: env.blueGreen,
      fleetName: names.fleet(env.name),
      fleetTagKey: names.fleetTagKey,
      removalPolicy: props.removalPolicy,
    };
    // The application by its name, not as a cross-stack reference: IAM policies then hold a literal
    // (and so do their cdk-nag acknowledgements); the stack dependency keeps the deployment order.
    if (Stack.of(props.application) !== this) this.addStackDependency(Stack.of(props.application));
    const application = codedeploy.ServerApplication.fromServerApplicationName(this, 'Application', names.codeDeployApplication);
    this.deployment = createEnvironmentDeployment(this, 'Deployment', deploymentSettings, {
      application,
      deploymentGroupName: names.deploymentGroup(env.name),
      vpc: network.vpc,
      launchTemplate: this.fleet.launchTemplate,
      capacity: env.capacity,
      targetGroup: this.loadBalancer.targetGroup,
      alarms: this.alarms.alarms,
      targetHealthAlarms: [this.alarms.unhealthyHosts],
      notificationTopic: notifications.topic,
    });

    this.observability.addDiskFullAlarms(notifications.topic);
    this.dashboard = new EnvironmentDashboard(this, 'Dashboard', {
      environmentName: env.name,
      loadBalancer: this.loadBalancer.loadBalancer,
      targetGroup: this.loadBalancer.targetGroup,
      rollbackAlarms: this.alarms.alarms,
      observability: this.observability,
      diskMountPoints: MOUNT_POINTS,
      autoScalingGroupSearchTerm:
        this.deployment instanceof InPlaceDeployment
          ? `AutoScalingGroupName="${this.deployment.autoScalingGroup.autoScalingGroupName}"`
          : `"${names.deploymentGroup(env.name)}"`,
    });

    new CfnOutput(this, 'ServiceUrl', {
      description: `The ${env.name} service (503 until the pipeline's first deployment reaches it)`,
      value: this.loadBalancer.url,
    });
    new CfnOutput(this, 'ParameterPath', {
      description: 'Parameter Store path the service reads at boot; add SecureString secrets here',
      value: this.parameters.path,
    });
    new CfnOutput(this, 'DashboardUrl', {
      description: `The ${env.name} dashboard: traffic, errors, latency, hosts, disk, memory, the rollback alarms`,
      value: this.dashboard.url,
    });
    new CfnOutput(this, 'ServiceLogGroup', {
      description: 'The service\'s JSON log lines, one stream per instance (Logs Insights: the saved queries under this environment)',
      value: this.observability.logGroups.service.logGroupName,
    });
  }
}
