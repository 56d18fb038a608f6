import { ALB_IDLE_TIMEOUT_SECONDS, HEALTH_PATH, SERVICE_PORT } from '@conveyor/config';
import { Match, Template } from 'aws-cdk-lib/assertions';

import { shippedEnvironment, synthTemplates, testConfig, userDataOf, type TemplateResources as Resources } from '../../../test-support';
import { names } from '../../names';

function logicalIdOf(template: Template, type: string, props: Record<string, unknown> = {}): string {
  const [id, ...others] = Object.keys(template.findResources(type, { Properties: props }));
  if (id === undefined || others.length > 0) throw new Error(`expected exactly one ${type}`);
  return id;
}

describe('environment stacks (the example config: staging, then prod)', () => {
  let staging: Template;
  let prod: Template;

  beforeAll(() => {
    [staging, prod] = synthTemplates().environments as [Template, Template];
  });

  describe('launch template', () => {
    it('when an instance launches, then IMDSv2 is required and the root volume is encrypted gp3', () => {
      // Assert
      staging.hasResourceProperties('AWS::EC2::LaunchTemplate', {
        LaunchTemplateData: Match.objectLike({
          MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
          BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: Match.objectLike({ Encrypted: true, VolumeType: 'gp3' }) }],
          InstanceType: 't3.small',
        }),
      });
    });

    it('when an instance launches, then its AMI is the latest Amazon Linux 2023 from the public SSM parameter, not a lookup', () => {
      // Assert
      staging.hasParameter('*', {
        Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>',
        Default: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
      });
    });

    it('when an instance boots, then user data installs Node.js and the agent and writes this environment into the env file', () => {
      // Act
      const script = userDataOf(staging);

      // Assert
      expect(script).toContain('dnf install -y nodejs22 ruby');
      expect(script).toContain('useradd --system --create-home --home-dir /home/app');
      expect(script).toContain(`APP_ENV=staging\nAWS_REGION=us-east-1\nCONFIG_SSM_PATH=${names.parameterPath('staging')}\n`);
      expect(script).toContain('https://aws-codedeploy-us-east-1.s3.us-east-1.amazonaws.com/latest/install');
      expect(userDataOf(prod)).toContain('APP_ENV=prod\n');
    });
  });

  describe('network access', () => {
    it('when anything connects to an instance, then only the load balancer security group is admitted, on the service port', () => {
      // Arrange
      const instanceSg = logicalIdOf(staging, 'AWS::EC2::SecurityGroup', { GroupDescription: Match.stringLikeRegexp('^Service instances') });
      const albSg = logicalIdOf(staging, 'AWS::EC2::SecurityGroup', { GroupDescription: Match.stringLikeRegexp('^Load balancer') });

      // Act
      const ingress = Object.values(
        staging.findResources('AWS::EC2::SecurityGroupIngress', { Properties: { GroupId: { 'Fn::GetAtt': [instanceSg, 'GroupId'] } } }) as Resources,
      ).map((rule) => rule.Properties);

      // Assert
      expect(ingress).toEqual([expect.objectContaining({ FromPort: SERVICE_PORT, ToPort: SERVICE_PORT, SourceSecurityGroupId: { 'Fn::GetAtt': [albSg, 'GroupId'] } })]);
      staging.hasResourceProperties('AWS::EC2::SecurityGroup', {
        GroupDescription: Match.stringLikeRegexp('^Service instances'),
        SecurityGroupIngress: Match.absent(),
        SecurityGroupEgress: [Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 })],
      });
    });

    it('when the load balancer is created, then its idle timeout is the service contract constant and invalid headers are dropped', () => {
      // Assert
      staging.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
        Scheme: 'internet-facing',
        LoadBalancerAttributes: Match.arrayWith([
          { Key: 'idle_timeout.timeout_seconds', Value: String(ALB_IDLE_TIMEOUT_SECONDS) },
          { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
          { Key: 'access_logs.s3.enabled', Value: 'true' },
        ]),
      });
    });

    it('when no certificate is configured, then the load balancer serves HTTP on port 80', () => {
      // Assert
      staging.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1);
      staging.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 80, Protocol: 'HTTP' });
    });

    it('when the target group health-checks, then it polls the health path on the service port and drains for the shutdown timeout + 5 s', () => {
      // Assert
      staging.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        Port: SERVICE_PORT,
        TargetType: 'instance',
        HealthCheckPath: HEALTH_PATH,
        Matcher: { HttpCode: '200' },
        TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '15' }]),
      });
    });

    it('when the in-place Auto Scaling group is created, then it is not attached to the target group (CodeDeploy registers instances)', () => {
      // Assert
      staging.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
        TargetGroupARNs: Match.absent(),
        HealthCheckType: 'EC2',
        MinSize: '1',
        DesiredCapacity: '1',
        MaxSize: '2',
      });
    });
  });

  describe('instance role', () => {
    it("when the service reads its config, then SSM access is limited to its environment's path", () => {
      // Assert
      staging.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Sid: 'ReadServiceParameters',
              Effect: 'Allow',
              Action: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath'],
              Resource: [
                { 'Fn::Join': ['', ['arn:aws:ssm:us-east-1:', { Ref: 'AWS::AccountId' }, `:parameter${names.parameterPath('staging').slice(0, -1)}`]] },
                { 'Fn::Join': ['', ['arn:aws:ssm:us-east-1:', { Ref: 'AWS::AccountId' }, `:parameter${names.parameterPath('staging')}*`]] },
              ],
            },
          ]),
        },
      });
    });

    it('when the service reads a SecureString, then KMS decryption is allowed only through SSM and only for its path', () => {
      // Assert
      staging.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Sid: 'DecryptServiceSecureStrings',
              Action: 'kms:Decrypt',
              Condition: {
                StringEquals: { 'kms:ViaService': 'ssm.us-east-1.amazonaws.com' },
                StringLike: {
                  'kms:EncryptionContext:PARAMETER_ARN': {
                    'Fn::Join': ['', ['arn:aws:ssm:us-east-1:', { Ref: 'AWS::AccountId' }, `:parameter${names.parameterPath('staging')}*`]],
                  },
                },
              },
            }),
          ]),
        },
      });
    });

    it('when the role is created, then its only managed policy is the Session Manager core and no statement allows everything', () => {
      // Arrange
      // The instance role's policies (CodeDeploy's in-place service role needs "*" for Describe calls).
      const [instanceRole] = Object.keys(
        staging.findResources('AWS::IAM::Role', {
          Properties: { AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })] }) },
        }),
      );
      const policies = Object.values(staging.findResources('AWS::IAM::Policy') as Resources).filter((p) =>
        JSON.stringify(p.Properties.Roles).includes(`"${String(instanceRole)}"`),
      );
      expect(policies.length).toBeGreaterThan(0);
      const statements = policies.flatMap((p) => (p.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement);

      // Assert
      staging.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })] }),
        ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonSSMManagedInstanceCore']] }],
      });
      // The one "*": PutMetricData, which has no resource type, held to the environment's namespace by condition.
      const unconditioned = statements.filter((s) => (s.Resource === '*' && !('Condition' in s)) || JSON.stringify(s.Action).includes('ssm:*'));
      expect(unconditioned).toEqual([]);
    });
  });

  describe('parameters', () => {
    it("when the stack is deployed, then the service's non-secret parameters exist under /<service>/<environment>/", () => {
      // Assert
      staging.hasResourceProperties('AWS::SSM::Parameter', { Name: `${names.parameterPath('staging')}greeting`, Value: 'Hello from staging', Type: 'String' });
      staging.hasResourceProperties('AWS::SSM::Parameter', { Name: `${names.parameterPath('staging')}log-level`, Value: 'debug' });
      prod.resourceCountIs('AWS::SSM::Parameter', 1);
      prod.hasResourceProperties('AWS::SSM::Parameter', { Name: `${names.parameterPath('prod')}greeting`, Value: 'Hello' });
    });
  });

  describe('deployment group and alarms', () => {
    it.each([['staging', () => staging]])('when %s is deployed in place, then its deployment group rolls back on failure, stop and alarm, with all its alarms attached', (env, template) => {
      // Arrange
      // The rollback alarms (the disk-full alarm only notifies, see lib/observability).
      const alarmIds = Object.entries(template().findResources('AWS::CloudWatch::Alarm'))
        .filter(([, alarm]) => !String((alarm as { Properties: { AlarmName: string } }).Properties.AlarmName).includes('-disk-full'))
        .map(([id]) => id);

      // Assert
      expect(alarmIds).toHaveLength(3);
      template().hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
        DeploymentGroupName: names.deploymentGroup(env),
        DeploymentConfigName: 'CodeDeployDefault.OneAtATime',
        DeploymentStyle: { DeploymentOption: 'WITH_TRAFFIC_CONTROL' },
        AutoRollbackConfiguration: {
          Enabled: true,
          Events: Match.arrayEquals(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM']),
        },
        AlarmConfiguration: { Enabled: true, Alarms: alarmIds.map((id) => ({ Name: { Ref: id } })) },
        TerminationHookEnabled: true,
        LoadBalancerInfo: { TargetGroupInfoList: [{ Name: Match.anyValue() }] },
      });
    });

    it('when the alarms are created, then they watch target 5xx, unhealthy hosts and p99 latency with the configured thresholds', () => {
      // Assert
      prod.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: names.alarm('prod', 'target-5xx'),
        MetricName: 'HTTPCode_Target_5XX_Count',
        Statistic: 'Sum',
        Threshold: 5,
        TreatMissingData: 'notBreaching',
      });
      prod.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: names.alarm('prod', 'unhealthy-hosts'), MetricName: 'UnHealthyHostCount', Threshold: 1 });
      prod.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: names.alarm('prod', 'p99-latency'), MetricName: 'TargetResponseTime', ExtendedStatistic: 'p99', Threshold: 1.5 });
    });

    it('when an alarm fires or clears, then the environment topic hears about it', () => {
      // Arrange
      const topic = logicalIdOf(staging, 'AWS::SNS::Topic');

      // Assert
      for (const alarm of Object.values(staging.findResources('AWS::CloudWatch::Alarm') as Resources)) {
        expect(alarm.Properties).toMatchObject({ AlarmActions: [{ Ref: topic }], OKActions: [{ Ref: topic }] });
      }
      staging.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'CloudWatchAlarmsPublish', Principal: { Service: 'cloudwatch.amazonaws.com' } })]) },
      });
    });
  });
});

describe('environment stack variants', () => {
  it('when a certificate is configured, then the load balancer serves HTTPS with it and redirects HTTP', () => {
    // Arrange
    const certificateArn = 'arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012';
    const staging = shippedEnvironment('staging');
    const prod = shippedEnvironment('prod');
    const config = testConfig({ environments: [staging, { ...prod, certificateArn }] });

    // Act
    const template = synthTemplates(config).environments[1]!;

    // Assert
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: certificateArn }],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      DefaultActions: [Match.objectLike({ Type: 'redirect', RedirectConfig: Match.objectLike({ Port: '443', Protocol: 'HTTPS' }) })],
    });
  });
});
