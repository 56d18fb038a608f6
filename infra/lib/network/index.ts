import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface NetworkProps {
  /**
   * NAT gateways for the private subnets' outbound traffic (package installs,
   * the CodeDeploy agent, Parameter Store, Session Manager). One is cheaper;
   * two keep egress up when one Availability Zone fails. See infra/README.md
   * for the cost and for trading NAT for VPC endpoints.
   */
  readonly natGateways: number;
  /** Where VPC flow logs (rejected traffic) are delivered. */
  readonly flowLogsBucket: s3.IBucket;
}

/**
 * One environment's VPC: two Availability Zones, public subnets for the load
 * balancer and NAT, private subnets for the instances.
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.0.0.0/16'),
      // No account in the stack env, so the AZs are resolved at deploy time
      // (Fn::GetAZs) instead of by a context lookup at synth time.
      maxAzs: 2,
      natGateways: props.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
      // A gateway endpoint is free and keeps S3 traffic (bundles from the artifact
      // bucket, dnf repositories, the CodeDeploy agent installer) off the NAT's per-GB charge.
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });
    // Rejected traffic only: enough to debug a security group, a fraction of the volume of ALL.
    this.vpc.addFlowLog('RejectedTraffic', {
      destination: ec2.FlowLogDestination.toS3(props.flowLogsBucket, 'vpc-flow-logs/'),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });
  }
}
