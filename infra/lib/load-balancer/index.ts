import { ALB_IDLE_TIMEOUT_SECONDS, DEFAULT_SHUTDOWN_TIMEOUT_MS, HEALTH_PATH, SERVICE_PORT } from '@conveyor/config';
import { Duration } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

import { acknowledge } from '../nag';

/**
 * How long the load balancer keeps a deregistered instance's in-flight requests
 * running before cutting them. Once stopped, the service gives running requests
 * at most its shutdown timeout to finish, so draining for that long, plus 5 s
 * for the load balancer to stop routing to the target, means no request is
 * still arriving when CodeDeploy runs ApplicationStop. 10 s timeout -> 15 s.
 */
export const DEREGISTRATION_DELAY = Duration.seconds(Math.ceil(DEFAULT_SHUTDOWN_TIMEOUT_MS / 1_000) + 5);

export interface ServiceLoadBalancerProps {
  /** The environment's VPC: the load balancer goes in its public subnets. */
  readonly vpc: ec2.IVpc;
  /** Receives the access logs (must use SSE-S3, which is what the load balancer can write to). */
  readonly accessLogsBucket: s3.IBucket;
  /**
   * Serve HTTPS with this certificate and redirect HTTP to it.
   * @default - HTTP only on port 80
   */
  readonly certificate?: acm.ICertificate;
}

/**
 * The internet-facing Application Load Balancer in front of one environment,
 * and the target group CodeDeploy moves instances in and out of.
 *
 * No Auto Scaling group is attached to the target group: CodeDeploy registers
 * an instance (AllowTraffic) only after the service is installed and validated
 * on it, and deregisters it (BlockTraffic) before stopping the service, during
 * deployments, scale-out and scale-in alike. Before the first deployment the
 * group is empty, so the unhealthy-hosts alarm cannot block that deployment.
 */
export class ServiceLoadBalancer extends Construct {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly securityGroup: ec2.SecurityGroup;
  /** The URL clients use: https:// when a certificate is configured. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ServiceLoadBalancerProps) {
    super(scope, id);
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Load balancer: HTTP(S) from the internet, out to the service port only',
      allowAllOutbound: false,
    });
    acknowledge(
      this.securityGroup,
      'The internet-facing load balancer is the public entry point: it must accept 80/443 from anywhere.',
      'AwsSolutions-EC23',
    );

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup: this.securityGroup,
      // The service's keep-alive timeout is derived from this same constant and exceeds it,
      // so the load balancer, not Node, always closes an idle connection first (no 502s).
      idleTimeout: Duration.seconds(ALB_IDLE_TIMEOUT_SECONDS),
      dropInvalidHeaderFields: true,
    });
    this.loadBalancer.logAccessLogs(props.accessLogsBucket, 'alb');

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      vpc: props.vpc,
      // Instances are registered by CodeDeploy, never by an Auto Scaling group attachment.
      targetType: elbv2.TargetType.INSTANCE,
      port: SERVICE_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      deregistrationDelay: DEREGISTRATION_DELAY,
      healthCheck: {
        path: HEALTH_PATH,
        healthyHttpCodes: '200',
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
      },
    });

    if (props.certificate) {
      this.loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [props.certificate],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultTargetGroups: [this.targetGroup],
        open: true,
      });
      this.loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443 });
      this.url = `https://${this.loadBalancer.loadBalancerDnsName}`;
    } else {
      this.loadBalancer.addListener('Http', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        defaultTargetGroups: [this.targetGroup],
        open: true,
      });
      this.url = `http://${this.loadBalancer.loadBalancerDnsName}`;
    }
  }
}
