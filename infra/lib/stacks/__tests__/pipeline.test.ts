import { Match, Template } from 'aws-cdk-lib/assertions';

import { shippedEnvironment, synthStacks, testConfig } from '../../../test-support';
import { names } from '../../names';

type Resources = Record<string, { Properties: Record<string, unknown> }>;
interface Stage {
  Name: string;
  Actions: {
    Name: string;
    ActionTypeId: { Category: string; Provider: string };
    InputArtifacts?: { Name: string }[];
    Configuration?: Record<string, unknown>;
  }[];
}

function stagesOf(template: Template): Stage[] {
  const [pipeline] = Object.values(template.findResources('AWS::CodePipeline::Pipeline') as Resources);
  return pipeline?.Properties.Stages as Stage[];
}

function bucketIdByLogPrefix(template: Template, prefix: string): string {
  const [id] = Object.keys(
    template.findResources('AWS::S3::Bucket', { Properties: { LoggingConfiguration: { LogFilePrefix: prefix } } }),
  );
  if (id === undefined) throw new Error(`no bucket logging to ${prefix}`);
  return id;
}

const staging = shippedEnvironment('staging');
const prod = shippedEnvironment('prod');

describe('pipeline stack (the example config)', () => {
  let template: Template;

  beforeAll(() => {
    const config = testConfig({ notificationEmails: ['ops@example.com', 'lead@example.com'] });
    template = Template.fromStack(synthStacks(config).pipeline);
  });

  it('when the pipeline is created, then it is a V2 pipeline in QUEUED mode named after the service', () => {
    // Assert
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Name: names.pipeline,
      PipelineType: 'V2',
      ExecutionMode: 'QUEUED',
      // The self-update ends the run that changed the pipeline; this starts the next one.
      RestartExecutionOnUpdate: true,
    });
  });

  it('when there are two environments, then the stages are source, build, self-update, staging, approval, production', () => {
    // Act
    const stages = stagesOf(template);

    // Assert
    expect(stages.map((stage) => stage.Name)).toEqual(['Source', 'Build', 'UpdatePipeline', 'Deploy-staging', 'Approve-prod', 'Deploy-prod']);
    expect(stages.map((stage) => stage.Actions.map((action) => `${action.Name}:${action.ActionTypeId.Provider}`))).toEqual([
      ['Checkout:CodeStarSourceConnection'],
      ['BuildTestPackage:CodeBuild', 'Synth:CodeBuild'],
      ['SelfUpdate:CodeBuild'],
      ['UpdateStack:CodeBuild', 'Deploy:CodeDeploy', 'AcceptanceCheck:CodeBuild'],
      ['Approve:Manual'],
      ['UpdateStack:CodeBuild', 'Deploy:CodeDeploy'],
    ]);
  });

  it("when an environment is deployed, then the action targets that environment's deployment group with the build's bundle", () => {
    // Act
    const deploy = stagesOf(template)
      .find((stage) => stage.Name === 'Deploy-prod')
      ?.Actions.find((action) => action.Name === 'Deploy');

    // Assert
    expect(deploy?.InputArtifacts).toEqual([{ Name: 'Bundle' }]);
    expect(deploy?.Configuration?.DeploymentGroupName).toMatchObject({ 'Fn::GetStackOutput': { StackName: names.environmentStack('prod') } });
    expect(deploy?.Configuration?.ApplicationName).toBe(names.codeDeployApplication);
  });

  it('when production waits for approval, then the request goes to the SNS topic with a link to the run and the commit', () => {
    // Arrange
    const [topicId] = Object.keys(template.findResources('AWS::SNS::Topic'));

    // Act
    const approval = stagesOf(template).find((stage) => stage.Name === 'Approve-prod')?.Actions[0];

    // Assert
    expect(approval?.Configuration?.NotificationArn).toEqual({ Ref: topicId });
    expect(approval?.Configuration?.ExternalEntityLink).toBe(
      `https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/${names.pipeline}/executions/#{codepipeline.PipelineExecutionId}/timeline?region=us-east-1`,
    );
    expect(approval?.Configuration?.CustomData).toContain('Commit #{Source.CommitId} passed');
  });

  it('when the pipeline fails or an approval is rejected, then a notification rule tells the same topic', () => {
    // Assert
    template.hasResourceProperties('AWS::CodeStarNotifications::NotificationRule', {
      EventTypeIds: Match.arrayWith(['codepipeline-pipeline-pipeline-execution-failed', 'codepipeline-pipeline-manual-approval-failed']),
      Targets: [{ TargetType: 'SNS', TargetAddress: { Ref: Match.anyValue() } }],
    });
  });

  it('when notification emails are configured, then each address is subscribed to the pipeline topic', () => {
    // Assert
    template.resourceCountIs('AWS::SNS::Subscription', 2);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    template.hasResourceProperties('AWS::SNS::Topic', {});
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  describe('artifact store', () => {
    it('when artifacts are stored, then the pipeline uses the stack-owned bucket with its customer-managed key', () => {
      // Arrange
      const bucket = bucketIdByLogPrefix(template, 'artifacts/');
      const [keyId] = Object.keys(template.findResources('AWS::KMS::Key'));

      // Assert
      template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
        ArtifactStore: { Type: 'S3', Location: { Ref: bucket }, EncryptionKey: { Type: 'KMS', Id: { 'Fn::GetAtt': [keyId, 'Arn'] } } },
      });
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    });

    it('when the artifact bucket is created, then it is KMS-encrypted, private, access-logged and expires objects', () => {
      // Arrange
      const bucket = bucketIdByLogPrefix(template, 'artifacts/');

      // Assert
      template.hasResource('AWS::S3::Bucket', {
        Properties: {
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() }, BucketKeyEnabled: true },
            ],
          },
          PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
          LoggingConfiguration: { DestinationBucketName: { Ref: Match.anyValue() }, LogFilePrefix: 'artifacts/' },
          LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 365, Status: 'Enabled' })] },
        },
      });
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: bucket },
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    });

    it("when an environment's instances fetch a bundle, then their role may read artifact objects and decrypt them through S3, nothing more", () => {
      // Arrange
      const bucket = bucketIdByLogPrefix(template, 'artifacts/');
      const [keyId] = Object.keys(template.findResources('AWS::KMS::Key'));

      // Assert
      for (const env of ['staging', 'prod']) {
        template.hasResourceProperties('AWS::IAM::Policy', {
          PolicyName: Match.stringLikeRegexp(`InstancesOf${env}DownloadBundles`),
          Roles: [Match.objectLike({ 'Fn::GetStackOutput': Match.objectLike({ StackName: names.environmentStack(env) }) })],
          PolicyDocument: {
            Statement: [
              { Sid: 'DownloadBundles', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/*']] } },
              {
                Sid: 'DecryptBundles',
                Effect: 'Allow',
                Action: 'kms:Decrypt',
                Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
                Condition: { StringEquals: { 'kms:ViaService': Match.stringLikeRegexp('^s3\\.[a-z0-9-]+\\.amazonaws\\.com$') } },
              },
            ],
          },
        });
      }
    });
  });
});

describe('pipeline stage order', () => {
  it('when only one environment is configured, then the pipeline is source, build, self-update, approval, deploy', () => {
    // Arrange
    const config = testConfig({ environments: [prod] });

    // Act
    const stages = stagesOf(Template.fromStack(synthStacks(config).pipeline));

    // Assert
    expect(stages.map((stage) => stage.Name)).toEqual(['Source', 'Build', 'UpdatePipeline', 'Approve-prod', 'Deploy-prod']);
  });

  it('when three environments are configured, then each deploys in order and only the last waits for approval', () => {
    // Arrange
    const config = testConfig({ environments: [{ ...staging, name: 'dev' }, staging, prod] });

    // Act
    const stages = stagesOf(Template.fromStack(synthStacks(config).pipeline));

    // Assert
    expect(stages.map((stage) => stage.Name)).toEqual(['Source', 'Build', 'UpdatePipeline', 'Deploy-dev', 'Deploy-staging', 'Approve-prod', 'Deploy-prod']);
  });
});
