import { Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';

import type { DeployConfig } from '../../../config/schema';
import { createTestApp, exampleDeployConfig, synthStacks, TEST_CONNECTION_ARN, testConfig } from '../../../test-support';
import { expectAllowed, expectDenied, resolveApp, TEST_ACCOUNT, type SimulatedPrincipal } from '../../../test-support/iam-simulator';
import { names } from '../../names';
import { createStacks, type ServiceStacks } from '../../stacks';
import { DIFF_ROLE_VARIABLE } from '..';

type Resources = Record<string, { Properties: Record<string, unknown> }>;

/** The resource of that logical id in the template. */
function resourceOf(template: Template, logicalId: string): { Properties: Record<string, unknown> } {
  const resources = (template.toJSON() as { Resources: Resources }).Resources;
  const resource = resources[logicalId];
  if (resource === undefined) throw new Error(`no resource ${logicalId}`);
  return resource;
}

const GITHUB_ISSUER = 'token.actions.githubusercontent.com';
const EXISTING_PROVIDER = `arn:aws:iam::${TEST_ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;

function github(fields: Record<string, unknown>): DeployConfig {
  return testConfig({ source: { ...exampleDeployConfig.source, connectionArn: TEST_CONNECTION_ARN, ...fields } });
}

function codeCommit(fields: Record<string, unknown> = {}): DeployConfig {
  return testConfig({ source: { kind: 'codecommit', repositoryName: 'your-repo', ...fields } });
}

/** The role an assumed session of `roleLogicalId` acts as, with every policy of the app. */
function principalOf(stacks: ServiceStacks, role: CfnRole, session: string): SimulatedPrincipal {
  const { pipeline } = stacks;
  const resolved = resolveApp([stacks.foundation, ...stacks.environments, pipeline]);
  const policies = resolved.rolePolicies(pipeline.stackName, pipeline.getLogicalId(role));
  return { ...policies, arn: `arn:aws:sts::${TEST_ACCOUNT}:assumed-role/${policies.roleName}/${session}` };
}

/** Synthesizes like `cdk synth`: cdk-nag on, a finding left unacknowledged throws. */
function synthWithNag(config: DeployConfig): void {
  const app = createTestApp();
  createStacks(app, config);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
}

describe('pull requests on GitHub: the cdk diff role', () => {
  it('when the deploy config leaves pullRequestDiffRole out, then there is no OIDC provider and no role GitHub can assume', () => {
    // Act
    const template = Template.fromStack(synthStacks(testConfig()).pipeline);

    // Assert
    template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    expect(JSON.stringify(template.findResources('AWS::IAM::Role'))).not.toContain('AssumeRoleWithWebIdentity');
    expect(Object.keys(template.findOutputs('*')).filter((id) => id.includes('DiffRoleArn'))).toEqual([]);
  });

  describe('when pullRequestDiffRole is true', () => {
    const stacks = synthStacks(github({ pullRequestDiffRole: true }));
    const template = Template.fromStack(stacks.pipeline);
    const diffRole = stacks.pipeline.pullRequests.diffRole!;
    const region = stacks.pipeline.region;
    const stackArn = (name: string): string => `arn:aws:cloudformation:${region}:${TEST_ACCOUNT}:stack/${name}/6a3b1c20-d1e2-11ee-9f00-0a1b2c3d4e5f`;
    const appStacks = [stacks.foundation, ...stacks.environments, stacks.pipeline].map((stack) => stack.stackName);

    it("then the stack creates GitHub's OIDC provider for the sts.amazonaws.com audience", () => {
      template.resourceCountIs('AWS::IAM::OIDCProvider', 1);
      template.hasResourceProperties('AWS::IAM::OIDCProvider', { Url: `https://${GITHUB_ISSUER}`, ClientIdList: ['sts.amazonaws.com'] });
    });

    it('then only pull_request runs of owner/repo may assume the role, with the aud and sub claims matched exactly', () => {
      // Arrange
      const [providerId] = Object.keys(template.findResources('AWS::IAM::OIDCProvider'));

      // Act
      const role = resourceOf(template, stacks.pipeline.getLogicalId(diffRole.node.defaultChild as CfnRole));

      // Assert
      expect(role.Properties.AssumeRolePolicyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRoleWithWebIdentity',
            Principal: { Federated: { Ref: providerId } },
            Condition: {
              StringEquals: {
                [`${GITHUB_ISSUER}:aud`]: 'sts.amazonaws.com',
                [`${GITHUB_ISSUER}:sub`]: 'repo:your-github-org/your-repo:pull_request',
              },
            },
          },
        ],
      });
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    });

    it('then the stack outputs the role ARN for the repository variable', () => {
      const outputs = Object.entries(template.findOutputs('*')).filter(([id]) => id.includes('DiffRoleArn'));
      expect(outputs).toHaveLength(1);
      expect(outputs[0]?.[1]).toMatchObject({ Value: { 'Fn::GetAtt': [stacks.pipeline.getLogicalId(diffRole.node.defaultChild as CfnRole), 'Arn'] } });
      expect((outputs[0]?.[1] as { Description: string }).Description).toContain(`repository variable ${DIFF_ROLE_VARIABLE} of your-github-org/your-repo`);
    });

    it("then the role may read every stack's template, as cdk diff --method=template does", async () => {
      // Arrange
      const session = principalOf(stacks, diffRole.node.defaultChild as CfnRole, 'GitHubActions');

      // Act, Assert
      expect(appStacks).toEqual(expect.arrayContaining([names.foundationStack, names.pipelineStack, names.environmentStack('prod')]));
      await expectAllowed(
        session,
        appStacks.flatMap((name) => [
          { description: `describe ${name}`, action: 'cloudformation:DescribeStacks', resource: stackArn(name) },
          { description: `read the template of ${name}`, action: 'cloudformation:GetTemplate', resource: stackArn(name) },
        ]),
      );
    });

    it('then the role can change nothing, read no other stack and reach nothing beyond the templates', async () => {
      // Arrange
      const session = principalOf(stacks, diffRole.node.defaultChild as CfnRole, 'GitHubActions');
      const prodStack = stackArn(names.environmentStack('prod'));

      // Act, Assert
      await expectDenied(session, [
        { description: 'update a stack', action: 'cloudformation:UpdateStack', resource: prodStack },
        { description: 'delete a stack', action: 'cloudformation:DeleteStack', resource: prodStack },
        { description: 'create a change set', action: 'cloudformation:CreateChangeSet', resource: prodStack },
        { description: 'execute a change set', action: 'cloudformation:ExecuteChangeSet', resource: prodStack },
        { description: "read another app's template", action: 'cloudformation:GetTemplate', resource: stackArn('payments-prod') },
        { description: 'read the CDK bootstrap stack', action: 'cloudformation:GetTemplate', resource: stackArn('CDKToolkit') },
        {
          description: 'assume the bootstrap lookup role (ReadOnlyAccess on the account)',
          action: 'sts:AssumeRole',
          resource: `arn:aws:iam::${TEST_ACCOUNT}:role/cdk-hnb659fds-lookup-role-${TEST_ACCOUNT}-${region}`,
        },
        {
          description: 'assume the bootstrap deploy role',
          action: 'sts:AssumeRole',
          resource: `arn:aws:iam::${TEST_ACCOUNT}:role/cdk-hnb659fds-deploy-role-${TEST_ACCOUNT}-${region}`,
        },
        { description: 'read a parameter', action: 'ssm:GetParameter', resource: `arn:aws:ssm:${region}:${TEST_ACCOUNT}:parameter/conveyor-api/prod/greeting` },
        { description: 'read an object', action: 's3:GetObject', resource: 'arn:aws:s3:::cdk-hnb659fds-assets-111111111111-us-east-1/template.json' },
        { description: 'start the pipeline', action: 'codepipeline:StartPipelineExecution', resource: `arn:aws:codepipeline:${region}:${TEST_ACCOUNT}:${names.pipeline}` },
      ]);
    });
  });

  it("when the config names the account's existing OIDC provider, then the role trusts it and the stack creates none", () => {
    // Act
    const stacks = synthStacks(github({ pullRequestDiffRole: true, githubOidcProviderArn: EXISTING_PROVIDER }));
    const template = Template.fromStack(stacks.pipeline);

    // Assert
    template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Action: 'sts:AssumeRoleWithWebIdentity', Principal: { Federated: EXISTING_PROVIDER } })] },
    });
  });

  it.each([
    ['a created OIDC provider', github({ pullRequestDiffRole: true })],
    ['an imported OIDC provider', github({ pullRequestDiffRole: true, githubOidcProviderArn: EXISTING_PROVIDER })],
  ])('when the app is synthesized with %s, then cdk-nag finds nothing unacknowledged', (_case, config) => {
    expect(() => synthWithNag(config)).not.toThrow();
  });
});

describe('pull requests on CodeCommit: the CodeBuild check', () => {
  const stacks = synthStacks(codeCommit({ create: true }));
  const template = Template.fromStack(stacks.pipeline);
  const project = stacks.pipeline.pullRequests.project!;
  const repositoryId = Object.keys(template.findResources('AWS::CodeCommit::Repository'))[0]!;
  const projectId = stacks.pipeline.getLogicalId(project.node.defaultChild as CfnRole);
  const region = stacks.pipeline.region;
  const repositoryArn = `arn:aws:codecommit:${region}:${TEST_ACCOUNT}:your-repo`;

  it('when a pull request is opened or its branch moves, then a rule on that repository starts the check at its source commit', () => {
    // Act
    const rules = Object.values(template.findResources('AWS::Events::Rule') as Resources).filter(
      (rule) => JSON.stringify(rule.Properties.EventPattern).includes('Pull Request'),
    );

    // Assert
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Properties.EventPattern).toEqual({
      source: ['aws.codecommit'],
      resources: [{ 'Fn::GetAtt': [repositoryId, 'Arn'] }],
      'detail-type': ['CodeCommit Pull Request State Change'],
      detail: { event: ['pullRequestCreated', 'pullRequestSourceBranchUpdated'] },
    });
    const [target] = rules[0]?.Properties.Targets as { Arn: unknown; InputTransformer: { InputPathsMap: Record<string, string>; InputTemplate: string } }[];
    expect(target?.Arn).toEqual({ 'Fn::GetAtt': [projectId, 'Arn'] });
    const paths = target!.InputTransformer.InputPathsMap;
    // An unquoted placeholder takes the JSON value at its path (a string keeps its quotes).
    const input = JSON.parse(target!.InputTransformer.InputTemplate.replace(/<([\w-]+)>/g, (_m, key: string) => `"{{${paths[key] ?? key}}}"`)) as {
      sourceVersion: string;
      environmentVariablesOverride: { name: string; value: string; type: string }[];
    };
    expect(input.sourceVersion).toBe('{{$.detail.sourceCommit}}');
    expect(input.environmentVariablesOverride).toEqual([
      { name: 'PULL_REQUEST_ID', value: '{{$.detail.pullRequestId}}', type: 'PLAINTEXT' },
      { name: 'SOURCE_COMMIT', value: '{{$.detail.sourceCommit}}', type: 'PLAINTEXT' },
      { name: 'DESTINATION_COMMIT', value: '{{$.detail.destinationCommit}}', type: 'PLAINTEXT' },
    ]);
  });

  it('when the check runs, then it builds the repository on the pipeline image, unprivileged, and comments in post_build', () => {
    // Act
    const properties = resourceOf(template, projectId).Properties;
    const buildSpec = JSON.parse((properties.Source as { BuildSpec: string }).BuildSpec) as { phases: Record<string, { commands?: string[] }> };

    // Assert
    expect(properties).toMatchObject({
      Source: { Type: 'CODECOMMIT', Location: { 'Fn::GetAtt': [repositoryId, 'CloneUrlHttp'] } },
      Environment: { Image: 'aws/codebuild/standard:8.0', ComputeType: 'BUILD_GENERAL1_MEDIUM', PrivilegedMode: false },
      TimeoutInMinutes: 30,
    });
    expect(buildSpec.phases.install?.commands).toBeUndefined();
    expect(buildSpec.phases.pre_build).toBeUndefined();
    expect(buildSpec.phases.post_build?.commands?.join('\n')).toMatch(/aws codecommit post-comment-for-pull-request .*--pull-request-id "\$\{PULL_REQUEST_ID\}"/);
    expect(buildSpec.phases.post_build?.commands?.join('\n')).toContain('CODEBUILD_BUILD_SUCCEEDING');
  });

  it('when the check runs, then it may pull the repository and comment on its pull requests', async () => {
    // Arrange
    const session = principalOf(stacks, stacks.pipeline.pullRequests.projectRole!.node.defaultChild as CfnRole, 'AWSCodeBuild-0b1c2d3e');

    // Act, Assert
    await expectAllowed(session, [
      { description: 'clone the pull request', action: 'codecommit:GitPull', resource: repositoryArn },
      { description: 'comment the result', action: 'codecommit:PostCommentForPullRequest', resource: repositoryArn },
    ]);
  });

  it('when the check reaches beyond commenting, then it is denied: no push, merge, approval or other repository', async () => {
    // Arrange
    const session = principalOf(stacks, stacks.pipeline.pullRequests.projectRole!.node.defaultChild as CfnRole, 'AWSCodeBuild-0b1c2d3e');

    // Act, Assert
    await expectDenied(session, [
      { description: 'push to the repository', action: 'codecommit:GitPush', resource: repositoryArn },
      { description: 'merge the pull request', action: 'codecommit:MergePullRequestBySquash', resource: repositoryArn },
      { description: 'approve the pull request', action: 'codecommit:UpdatePullRequestApprovalState', resource: repositoryArn },
      { description: 'comment on another repository', action: 'codecommit:PostCommentForPullRequest', resource: `arn:aws:codecommit:${region}:${TEST_ACCOUNT}:other-repo` },
      { description: 'start the pipeline', action: 'codepipeline:StartPipelineExecution', resource: `arn:aws:codepipeline:${region}:${TEST_ACCOUNT}:${names.pipeline}` },
    ]);
  });

  it('when the rule fires, then EventBridge may start this project and no other', async () => {
    // Arrange
    const rule = resourceOf(template, stacks.pipeline.getLogicalId(stacks.pipeline.pullRequests.rule!.node.defaultChild as CfnRole));
    const targetRoleId = (rule.Properties.Targets as { RoleArn: { 'Fn::GetAtt': [string, string] } }[])[0]?.RoleArn['Fn::GetAtt'][0];
    const resolved = resolveApp([stacks.foundation, ...stacks.environments, stacks.pipeline]);
    const events = resolved.rolePolicies(stacks.pipeline.stackName, targetRoleId!);
    const projectArn = `arn:aws:codebuild:${region}:${TEST_ACCOUNT}:project/${String(resolved.resolve(stacks.pipeline.stackName, { Ref: projectId }))}`;

    // Act, Assert
    await expectAllowed(events, [{ action: 'codebuild:StartBuild', resource: projectArn }]);
    await expectDenied(events, [{ action: 'codebuild:StartBuild', resource: `arn:aws:codebuild:${region}:${TEST_ACCOUNT}:project/${names.buildProject}` }]);
  });

  it('when pullRequestChecks is false, then there is no check project and no pull-request rule', () => {
    // Act
    const on = Template.fromStack(synthStacks(codeCommit()).pipeline);
    const off = Template.fromStack(synthStacks(codeCommit({ pullRequestChecks: false })).pipeline);

    // Assert: the pipeline's own projects stay, the check's project is the one gone
    const projects = (template: Template) => Object.keys(template.findResources('AWS::CodeBuild::Project')).length;
    expect(projects(off)).toBe(projects(on) - 1);
    expect(JSON.stringify(off.findResources('AWS::Events::Rule'))).not.toContain('Pull Request');
  });

  it.each([
    ['a created repository', codeCommit({ create: true })],
    ['an existing repository', codeCommit()],
  ])('when the app is synthesized with %s, then cdk-nag finds nothing unacknowledged', (_case, config) => {
    expect(() => synthWithNag(config)).not.toThrow();
  });
});
