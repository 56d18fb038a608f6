import { SERVICE_PORT } from '@conveyor/config';
import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

import { acknowledge } from '../nag';
import type { ServiceParameters } from '../parameters';
import { instanceBootstrapCommands } from './user-data';

export { CLOUDWATCH_AGENT_CONFIG_FILE, NODE_MAJOR, SERVICE_USER, instanceBootstrapCommands } from './user-data';

/**
 * Mount points of the instances' volumes: the root volume only. The service's
 * log directory (LOG_DIR) and pm2's home live on it, so its disk metric and
 * alarm cover the logs too. A fork that adds a log volume lists its mount point here.
 */
export const MOUNT_POINTS: readonly string[] = ['/'];

/** Root volume size. The AMI needs 2 GiB; the rest holds a few releases and pm2 logs. */
const ROOT_VOLUME_GIB = 16;

export interface FleetProps {
  /** The environment's VPC; the security group is created in it. */
  readonly vpc: ec2.IVpc;
  /** Written into the instance env file as APP_ENV. */
  readonly environmentName: string;
  /** The EC2 instance type; an arm64 (Graviton) type gets the arm64 AMI. */
  readonly instanceType: ec2.InstanceType;
  /** The only thing allowed to reach the service port. */
  readonly loadBalancerSecurityGroup: ec2.ISecurityGroup;
  /** The parameters the service reads at boot; the instance role may read these and nothing else. */
  readonly parameters: ServiceParameters;
  /**
   * The CloudWatch agent's configuration, written and started by the user data (../observability).
   * @default - no CloudWatch agent
   */
  readonly cloudWatchAgentConfig?: Readonly<Record<string, unknown>>;
}

/**
 * What every instance of one environment is made from: a launch template
 * (Amazon Linux 2023, IMDSv2 only, encrypted gp3 root volume, the bootstrap
 * user data), its instance role and its security group. The Auto Scaling
 * group that launches from it belongs to the deployment style
 * (see ../deployment), because blue/green replaces the group on every release.
 */
export class Fleet extends Construct {
  readonly launchTemplate: ec2.LaunchTemplate;
  readonly role: iam.Role;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: FleetProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Service instances: the service port from the load balancer only, HTTPS out',
      allowAllOutbound: false,
    });
    this.securityGroup.connections.allowFrom(
      props.loadBalancerSecurityGroup,
      ec2.Port.tcp(SERVICE_PORT),
      'Requests and health checks from the load balancer',
    );
    // Everything the instance calls is HTTPS: dnf repositories, S3, CodeDeploy, SSM.
    // DNS, NTP and instance metadata use link-local addresses that security groups do not filter.
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS APIs and package repositories');

    this.role = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `Instances of ${stack.stackName}: Session Manager, their Parameter Store path, the pipeline's bundles`,
      // Session Manager instead of SSH: no key pairs, no port 22, every session logged.
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    acknowledge(
      this.role,
      'AmazonSSMManagedInstanceCore is the AWS-maintained minimum for Session Manager and the SSM agent; copying it would freeze it.',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
    );
    props.parameters.grantRead(this.role);
    // Reading the pipeline's artifacts (the bundles) is granted by the pipeline stack,
    // which owns them: see ArtifactStore.grantBundleDownload.

    // The public SSM parameter .../al2023-ami-kernel-default-<arch>, resolved by CloudFormation at
    // deploy time: no lookup at synth, and each deploy picks up the latest AMI (a rolling replacement).
    // (MachineImage.latestAmazonLinux2023 would pin CDK's idea of the latest kernel instead.)
    const machineImage = new ec2.AmazonLinux2023ImageSsmParameter({
      // Never a synth-time context lookup (it would need credentials and freeze the AMI in cdk.context.json).
      cachedInContext: false,
      kernel: ec2.AmazonLinux2023Kernel.DEFAULT,
      cpuType: props.instanceType.architecture === ec2.InstanceArchitecture.ARM_64 ? ec2.AmazonLinuxCpuType.ARM_64 : ec2.AmazonLinuxCpuType.X86_64,
    });
    const userData = ec2.UserData.forLinux();
    userData.addCommands(
      ...instanceBootstrapCommands({
        environmentName: props.environmentName,
        region: stack.region,
        parameterPath: props.parameters.path,
        ...(props.cloudWatchAgentConfig === undefined ? {} : { cloudWatchAgentConfig: props.cloudWatchAgentConfig }),
      }),
    );

    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage,
      instanceType: props.instanceType,
      role: this.role,
      securityGroup: this.securityGroup,
      userData,
      requireImdsv2: true,
      // 1 hop: only processes on the instance itself reach the metadata service.
      httpPutResponseHopLimit: 1,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(ROOT_VOLUME_GIB, {
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            encrypted: true,
            deleteOnTermination: true,
          }),
        },
      ],
    });
  }
}
