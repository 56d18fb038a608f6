import { Match, Template } from 'aws-cdk-lib/assertions';

import { synthStacks, TEST_CONNECTION_ARN, testConfig } from '../../../test-support';

type Resources = Record<string, { Properties: Record<string, unknown> }>;

function sourceActionOf(template: Template): Record<string, unknown> {
  const [pipeline] = Object.values(template.findResources('AWS::CodePipeline::Pipeline') as Resources);
  const [source] = pipeline?.Properties.Stages as { Actions: Record<string, unknown>[] }[];
  return source?.Actions[0] ?? {};
}

describe('source: GitHub through a CodeConnections connection (default)', () => {
  let template: Template;

  beforeAll(() => {
    template = Template.fromStack(synthStacks(testConfig()).pipeline);
  });

  it("when the pipeline checks out, then it uses the connection with the action's own change detection off", () => {
    // Act
    const action = sourceActionOf(template);

    // Assert
    expect(action).toMatchObject({
      Name: 'Checkout',
      ActionTypeId: { Category: 'Source', Owner: 'AWS', Provider: 'CodeStarSourceConnection' },
      Configuration: { ConnectionArn: TEST_CONNECTION_ARN, FullRepositoryId: 'your-github-org/your-repo', BranchName: 'main', DetectChanges: false },
      Namespace: 'Source',
    });
  });

  it('when code is pushed, then a V2 trigger starts the pipeline for the release branch unless only docs changed', () => {
    // Assert
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Triggers: [
        {
          ProviderType: 'CodeStarSourceConnection',
          GitConfiguration: {
            SourceActionName: 'Checkout',
            Push: [{ Branches: { Includes: ['main'] }, FilePaths: { Excludes: ['docs/**', '**/*.md'] } }],
          },
        },
      ],
    });
    template.resourceCountIs('AWS::Events::Rule', 0);
  });

  it("when the source action runs, then its role may use the connection under both service prefixes", () => {
    // Assert
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'UseConnection',
            Effect: 'Allow',
            Action: ['codeconnections:UseConnection', 'codestar-connections:UseConnection'],
            Resource: TEST_CONNECTION_ARN,
          },
        ]),
      },
    });
  });
});

describe('source: CodeCommit', () => {
  it('when the repository is to be created, then the stack creates it and an EventBridge rule on the branch starts the pipeline', () => {
    // Arrange
    const config = testConfig({ source: { kind: 'codecommit', repositoryName: 'your-repo', create: true, branch: 'release' } });

    // Act
    const template = Template.fromStack(synthStacks(config).pipeline);

    // Assert
    const repository = Object.keys(template.findResources('AWS::CodeCommit::Repository', { Properties: { RepositoryName: 'your-repo' } }));
    expect(repository).toHaveLength(1);
    expect(sourceActionOf(template)).toMatchObject({
      ActionTypeId: { Category: 'Source', Provider: 'CodeCommit' },
      Configuration: { RepositoryName: { 'Fn::GetAtt': [repository[0], 'Name'] }, BranchName: 'release', PollForSourceChanges: false },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.codecommit'],
        'detail-type': ['CodeCommit Repository State Change'],
        detail: { event: ['referenceCreated', 'referenceUpdated'], referenceName: ['release'] },
      },
      Targets: [Match.objectLike({ Arn: Match.anyValue() })],
    });
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', { Triggers: Match.absent() });
  });

  it('when the repository already exists, then it is imported by name rather than created', () => {
    // Arrange
    const config = testConfig({ source: { kind: 'codecommit', repositoryName: 'existing-repo' } });

    // Act
    const template = Template.fromStack(synthStacks(config).pipeline);

    // Assert
    template.resourceCountIs('AWS::CodeCommit::Repository', 0);
    expect(sourceActionOf(template)).toMatchObject({ Configuration: { RepositoryName: 'existing-repo', BranchName: 'main' } });
    // The push rule; the pull-request check has a rule of its own (lib/pull-requests).
    template.resourcePropertiesCountIs('AWS::Events::Rule', { EventPattern: Match.objectLike({ 'detail-type': ['CodeCommit Repository State Change'] }) }, 1);
  });
});
