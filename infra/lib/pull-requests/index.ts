import { Arn, CfnOutput, Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

import type { SourceConfig } from '../../config/schema';
import { BUILD_IMAGE } from '../build-project';
import { acknowledge, wildcardResourceFinding } from '../nag';
import { SERVICE_NAME } from '../names';
import { NPM_FROM_PACKAGE_MANAGER } from '../pipeline-step';

/** The issuer of GitHub Actions' OIDC tokens; an account has at most one IAM provider for it. */
export const GITHUB_OIDC_ISSUER = 'token.actions.githubusercontent.com';
/** The repository variable that holds the diff role's ARN; .github/workflows/pull-request.yml reads it. */
export const DIFF_ROLE_VARIABLE = 'CDK_DIFF_ROLE_ARN';
/** The audience aws-actions/configure-aws-credentials asks GitHub's tokens for. */
export const GITHUB_OIDC_AUDIENCE = 'sts.amazonaws.com';

/**
 * What a pull-request check runs, in order: the README's install command,
 * lint, typecheck, the README's test command and the offline synth. The
 * GitHub workflow (.github/workflows/pull-request.yml) runs the same list;
 * tests hold both to the README.
 */
export const PULL_REQUEST_CHECK_COMMANDS = ['npm ci', 'npm run lint', 'npm run typecheck', 'npm test', 'npm run synth'] as const;

/** The Node.js major version CodeBuild installs, as buildspec.yml asks for it (`runtime-versions: nodejs`). */
export const CHECK_NODE_RUNTIME = 22;

export interface PullRequestChecksProps {
  /** The pipeline's source, from the deploy config: it decides which kind of check exists, if any. */
  readonly source: SourceConfig;
  /**
   * The CodeCommit repository, when that is the source.
   * @default - none; required for a CodeCommit source with `pullRequestChecks`
   */
  readonly repository?: codecommit.IRepository;
  /**
   * The CloudFormation stacks `cdk diff` compares against (every stack of the app).
   * The diff role may read these stacks' templates and nothing else.
   */
  readonly stackNames: readonly string[];
  /** What `cdk destroy` does with the check's build logs. */
  readonly removalPolicy: RemovalPolicy;
  /**
   * How long the check's build logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Checks on pull requests, before anything reaches the release branch.
 *
 * - GitHub (`source.pullRequestDiffRole`): GitHub's OIDC provider (created,
 *   or the account's existing one imported) and a role only pull-request
 *   workflows of `owner/repo` can assume, allowed to read this app's stack
 *   templates: what `cdk diff --method=template` needs, and nothing else. The
 *   workflow itself lives in .github/workflows/pull-request.yml.
 * - CodeCommit (`source.pullRequestChecks`): an EventBridge rule on pull
 *   requests created or updated in the repository starts a CodeBuild project
 *   that checks out the pull request's source commit, runs
 *   {@link PULL_REQUEST_CHECK_COMMANDS}, and comments the result on the pull
 *   request, passed or failed.
 */
export class PullRequestChecks extends Construct {
  /** The role pull-request workflows assume for `cdk diff`, when enabled. */
  readonly diffRole?: iam.Role;
  /** GitHub's OIDC provider the diff role trusts, when the diff role exists. */
  readonly oidcProvider?: iam.IOidcProvider;
  /** The CodeBuild project checking CodeCommit pull requests, when enabled. */
  readonly project?: codebuild.Project;
  /** The role the check builds run with. */
  readonly projectRole?: iam.Role;
  /** The rule that starts {@link project} on each pull request change. */
  readonly rule?: events.Rule;

  constructor(scope: Construct, id: string, props: PullRequestChecksProps) {
    super(scope, id);
    const { source } = props;
    if (source.kind === 'github' && source.pullRequestDiffRole) {
      this.oidcProvider =
        source.githubOidcProviderArn === undefined
          ? new iam.OidcProviderNative(this, 'GithubOidcProvider', { url: `https://${GITHUB_OIDC_ISSUER}`, clientIds: [GITHUB_OIDC_AUDIENCE] })
          : iam.OidcProviderNative.fromOidcProviderArn(this, 'GithubOidcProvider', source.githubOidcProviderArn);
      this.diffRole = this.createDiffRole(this.oidcProvider, `${source.owner}/${source.repo}`, props.stackNames);
    } else if (source.kind === 'codecommit' && source.pullRequestChecks) {
      if (props.repository === undefined) throw new Error('PullRequestChecks: a CodeCommit source needs its repository');
      [this.project, this.projectRole, this.rule] = this.createCodeCommitCheck(props.repository, props);
    }
  }

  private createDiffRole(provider: iam.IOidcProvider, repository: string, stackNames: readonly string[]): iam.Role {
    // `sub` is repo:<owner>/<repo>:pull_request for every pull_request run of that
    // repository (GitHub's default claim): no branch, no other event, no other repository.
    const role = new iam.Role(this, 'DiffRole', {
      assumedBy: new iam.WebIdentityPrincipal(provider.oidcProviderArn, {
        StringEquals: {
          [`${GITHUB_OIDC_ISSUER}:aud`]: GITHUB_OIDC_AUDIENCE,
          [`${GITHUB_OIDC_ISSUER}:sub`]: `repo:${repository}:pull_request`,
        },
      }),
      description: `${SERVICE_NAME}: read this app's stack templates for cdk diff in pull requests of ${repository}`,
      maxSessionDuration: Duration.hours(1),
    });
    // `cdk diff --method=template` calls DescribeStacks and GetTemplate per stack. It first tries the
    // bootstrap lookup role (ReadOnlyAccess on the whole account) and, denied, goes on with these
    // credentials: the role stays limited to this app's templates.
    const stacks = stackNames.map((stackName) =>
      Arn.format({ service: 'cloudformation', resource: 'stack', resourceName: `${stackName}/*` }, Stack.of(this)),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'ReadStackTemplates', actions: ['cloudformation:DescribeStacks', 'cloudformation:GetTemplate'], resources: stacks }),
    );
    acknowledge(
      role,
      'A stack ARN ends with an id CloudFormation makes at creation (stack/<name>/<id>); each wildcard stands for that id of one named stack of this app, ' +
        'so the role reads these templates and no other stack.',
      ...stacks.map((stack) => wildcardResourceFinding(this, stack)),
    );
    new CfnOutput(this, 'DiffRoleArn', {
      description: `Set it as the repository variable ${DIFF_ROLE_VARIABLE} of ${repository}: its pull requests then post cdk diff`,
      value: role.roleArn,
    });
    return role;
  }

  private createCodeCommitCheck(repository: codecommit.IRepository, props: PullRequestChecksProps): [codebuild.Project, iam.Role, events.Rule] {
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy,
    });
    // The project sees its role through `withoutPolicyUpdates()`, so it holds exactly the grants
    // below: CDK's own would add the default /aws/codebuild/<project> log groups too.
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
      description: `${SERVICE_NAME} pull-request check: pull ${repository.repositoryName}, write its logs, comment on its pull requests`,
    });
    const project = new codebuild.Project(this, 'Project', {
      role: role.withoutPolicyUpdates(),
      description: `${SERVICE_NAME}: check a pull request of ${repository.repositoryName} and comment the result on it`,
      source: codebuild.Source.codeCommit({ repository }),
      buildSpec: codebuild.BuildSpec.fromObject(pullRequestBuildSpec()),
      environment: {
        buildImage: BUILD_IMAGE,
        // The same size as the pipeline's build: the jest suites and the synth need the memory.
        computeType: codebuild.ComputeType.MEDIUM,
        privileged: false,
        environmentVariables: { REPOSITORY_NAME: { value: repository.repositoryName } },
      },
      cache: codebuild.Cache.local(codebuild.LocalCacheMode.CUSTOM),
      logging: { cloudWatch: { logGroup } },
      timeout: Duration.minutes(30),
      // No test reports: the result goes to the pull request as a comment.
      grantReportGroupPermissions: false,
    });
    // No build may start before its permissions exist.
    project.node.addDependency(role);
    logGroup.grantWrite(role);
    repository.grantPull(role);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'CommentOnPullRequests', actions: ['codecommit:PostCommentForPullRequest'], resources: [repository.repositoryArn] }),
    );
    acknowledge(
      project,
      'The project produces no artifact to encrypt: it only runs the checks of a pull request and posts a comment; its logs go to its own log group.',
      'AwsSolutions-CB4',
    );

    // The event's sourceCommit is the head of the pull request; destinationCommit the tip it would merge into.
    const rule = repository.onPullRequestStateChange('PullRequestChanged', {
      description: `${SERVICE_NAME}: check each pull request of ${repository.repositoryName} when it is opened or its branch moves`,
      eventPattern: { detail: { event: ['pullRequestCreated', 'pullRequestSourceBranchUpdated'] } },
      target: new targets.CodeBuildProject(project, {
        event: events.RuleTargetInput.fromObject({
          sourceVersion: events.EventField.fromPath('$.detail.sourceCommit'),
          environmentVariablesOverride: [
            { name: 'PULL_REQUEST_ID', value: events.EventField.fromPath('$.detail.pullRequestId'), type: 'PLAINTEXT' },
            { name: 'SOURCE_COMMIT', value: events.EventField.fromPath('$.detail.sourceCommit'), type: 'PLAINTEXT' },
            { name: 'DESTINATION_COMMIT', value: events.EventField.fromPath('$.detail.destinationCommit'), type: 'PLAINTEXT' },
          ],
        }),
      }),
    });
    return [project, role, rule];
  }
}

/**
 * The check's buildspec. Every check runs in the build phase, so post_build
 * always runs after it (CodeBuild skips post_build only when install or
 * pre_build fail) and comments either result on the pull request.
 */
export function pullRequestBuildSpec(): Record<string, unknown> {
  return {
    version: '0.2',
    // npm's cache inside the source directory, so the build host's local cache (`cache: paths`) keeps it.
    env: { shell: 'bash', variables: { TURBO_TELEMETRY_DISABLED: '1', npm_config_cache: '.npm-cache' } },
    phases: {
      install: { 'runtime-versions': { nodejs: CHECK_NODE_RUNTIME } },
      build: {
        commands: [
          NPM_FROM_PACKAGE_MANAGER,
          ...PULL_REQUEST_CHECK_COMMANDS,
        ],
      },
      post_build: {
        commands: [
          [
            'if [[ "${CODEBUILD_BUILD_SUCCEEDING}" == "1" ]]; then result="passed"; else result="FAILED"; fi',
            'build_url="https://${AWS_REGION}.console.aws.amazon.com/codesuite/codebuild/projects/${CODEBUILD_BUILD_ID%%:*}/build/${CODEBUILD_BUILD_ID/:/%3A}/?region=${AWS_REGION}"',
            'content="' + SERVICE_NAME + ' pull-request check ${result} for ${SOURCE_COMMIT:0:12}: ' + PULL_REQUEST_CHECK_COMMANDS.join(', ') + '. Log: ${build_url}"',
            'aws codecommit post-comment-for-pull-request --pull-request-id "${PULL_REQUEST_ID}" --repository-name "${REPOSITORY_NAME}" ' +
              '--before-commit-id "${DESTINATION_COMMIT}" --after-commit-id "${SOURCE_COMMIT}" --content "${content}" >/dev/null',
            'echo "pull request ${PULL_REQUEST_ID}: check ${result}, commented"',
          ].join('\n'),
        ],
      },
    },
    cache: { paths: ['.npm-cache/**/*', '.turbo/cache/**/*'] },
  };
}
