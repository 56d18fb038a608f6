import { Match, Template } from 'aws-cdk-lib/assertions';

import { synthStacks, testConfig } from '../../../test-support';
import { names } from '../../names';

type Resources = Record<string, { Properties: Record<string, unknown> }>;

function onlyId(template: Template, type: string, props: Record<string, unknown> = {}): string {
  const ids = Object.keys(template.findResources(type, { Properties: props }));
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}`);
  return ids[0] as string;
}

describe('build (CodeBuild project of the pipeline stack)', () => {
  let template: Template;

  beforeAll(() => {
    template = Template.fromStack(synthStacks(testConfig()).pipeline);
  });

  it("when the project builds, then it runs the repository's buildspec.yml on a current standard image, unprivileged", () => {
    // Assert
    template.hasResourceProperties('AWS::CodeBuild::Project', {
      Name: names.buildProject,
      Source: { Type: 'CODEPIPELINE', BuildSpec: 'buildspec.yml' },
      Environment: Match.objectLike({ Type: 'LINUX_CONTAINER', Image: 'aws/codebuild/standard:8.0', PrivilegedMode: false }),
      TimeoutInMinutes: 30,
    });
  });

  it('when the build output is written, then it is encrypted with the stack-owned customer-managed key', () => {
    // Arrange
    const key = onlyId(template, 'AWS::KMS::Key');

    // Assert
    template.hasResourceProperties('AWS::CodeBuild::Project', { EncryptionKey: { 'Fn::GetAtt': [key, 'Arn'] } });
  });

  it('when builds cache, then they use an S3 cache with a namespace in a bucket whose objects expire', () => {
    // Arrange
    const cacheBucket = onlyId(template, 'AWS::S3::Bucket', { LoggingConfiguration: { LogFilePrefix: 'build-cache/' } });

    // Assert
    template.hasResourceProperties('AWS::CodeBuild::Project', {
      Cache: { Type: 'S3', Location: { 'Fn::Join': ['/', [{ Ref: cacheBucket }, 'codebuild']] }, CacheNamespace: names.buildProject },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: { LogFilePrefix: 'build-cache/' },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 30 })] },
      BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) })] },
    });
  });

  it("when tests report, then the stack owns the '<project>-junit' report group the buildspec's 'junit' key resolves to", () => {
    // Arrange
    const reportGroup = onlyId(template, 'AWS::CodeBuild::ReportGroup');

    // Assert
    template.hasResourceProperties('AWS::CodeBuild::ReportGroup', { Name: names.junitReportGroup, Type: 'TEST' });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['codebuild:BatchPutTestCases', 'codebuild:CreateReport', 'codebuild:UpdateReport'],
            Resource: { 'Fn::GetAtt': [reportGroup, 'Arn'] },
          }),
        ]),
      },
    });
  });

  it('when permissions are granted, then the project cannot create other report groups', () => {
    // Act
    const policies = JSON.stringify(Object.values(template.findResources('AWS::IAM::Policy') as Resources));

    // Assert
    expect(policies).not.toContain('codebuild:CreateReportGroup');
    expect(policies).not.toMatch(/report-group\/[^"]*\*/);
  });

  it('when the build logs, then it writes to a log group with a retention', () => {
    // Arrange
    // (The synth, stack update and acceptance check projects have log groups of their own.)
    const logGroup = onlyId(template, 'AWS::Logs::LogGroup', { LogGroupName: `/aws/codebuild/${names.buildProject}` });

    // Assert
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: `/aws/codebuild/${names.buildProject}`, RetentionInDays: 30 });
    template.hasResourceProperties('AWS::CodeBuild::Project', {
      Name: names.buildProject,
      LogsConfig: { CloudWatchLogs: { Status: 'ENABLED', GroupName: { Ref: logGroup } } },
    });
  });

  it('when the pipeline starts the build, then it passes the commit and the execution id (the source zip has no .git)', () => {
    // Arrange
    const [pipeline] = Object.values(template.findResources('AWS::CodePipeline::Pipeline') as Resources);
    const build = (pipeline?.Properties.Stages as { Name: string; Actions: { Configuration: Record<string, string> }[] }[]).find(
      (stage) => stage.Name === 'Build',
    );

    // Act
    const variables = JSON.parse(build?.Actions[0]?.Configuration.EnvironmentVariables ?? '[]') as unknown;

    // Assert
    expect(variables).toEqual([
      { name: 'SOURCE_COMMIT_ID', type: 'PLAINTEXT', value: '#{Source.CommitId}' },
      { name: 'PIPELINE_EXECUTION_ID', type: 'PLAINTEXT', value: '#{codepipeline.PipelineExecutionId}' },
    ]);
  });
});
