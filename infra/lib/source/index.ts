import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

import type { SourceConfig } from '../../config/schema';
import { SERVICE_NAME } from '../names';

/** The pipeline variables namespace of the source action: `#{Source.CommitId}`. */
const VARIABLES_NAMESPACE = 'Source';

export interface PipelineSourceProps {
  /** GitHub (or any CodeConnections provider) or CodeCommit, from the deploy config. */
  readonly config: SourceConfig;
}

/**
 * The pipeline's Source stage action, and what starts the pipeline.
 *
 * - GitHub: a CodeConnections source action with its own change detection off
 *   (`triggerOnPush: false`) and a V2 pipeline trigger instead, filtered to the
 *   release branch and ignoring pushes that only touch docs.
 * - CodeCommit: a CodeCommit source action started by an EventBridge rule on
 *   the branch (the action's default trigger). CodePipeline supports push
 *   filters only for connection sources.
 */
export class PipelineSource extends Construct {
  readonly action: codepipeline.IAction;
  /** The source checkout, as a zip. */
  readonly output: codepipeline.Artifact;
  /** A V2 trigger to add to the pipeline. @default - none (CodeCommit is triggered by EventBridge) */
  readonly trigger?: codepipeline.TriggerProps;
  /** The commit being built, as a pipeline variable expression. */
  readonly commitId: string;
  /** The CodeCommit repository, when that is the source. */
  readonly repository?: codecommit.IRepository;

  constructor(scope: Construct, id: string, props: PipelineSourceProps) {
    super(scope, id);
    const { config } = props;
    this.output = new codepipeline.Artifact('Source');

    if (config.kind === 'github') {
      // The action's role is created here so both permission prefixes can be granted:
      // CDK grants codestar-connections:UseConnection; connections created since the
      // service's rename to CodeConnections are authorized as codeconnections:UseConnection.
      const role = new iam.Role(this, 'ActionRole', {
        assumedBy: new iam.AccountRootPrincipal(),
        description: `${SERVICE_NAME} pipeline: check out ${config.owner}/${config.repo} through the connection`,
      });
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'UseConnection',
          actions: ['codestar-connections:UseConnection', 'codeconnections:UseConnection'],
          resources: [config.connectionArn],
        }),
      );
      const action = new actions.CodeStarConnectionsSourceAction({
        actionName: 'Checkout',
        connectionArn: config.connectionArn,
        owner: config.owner,
        repo: config.repo,
        branch: config.branch,
        output: this.output,
        role,
        variablesNamespace: VARIABLES_NAMESPACE,
        // The pipeline-level trigger below replaces the action's own change detection.
        triggerOnPush: false,
      });
      this.action = action;
      this.commitId = action.variables.commitId;
      this.trigger = {
        providerType: codepipeline.ProviderType.CODE_STAR_SOURCE_CONNECTION,
        gitConfiguration: {
          sourceAction: action,
          pushFilter: [{ branchesIncludes: [config.branch], filePathsExcludes: [...config.ignoredPaths] }],
        },
      };
    } else {
      this.repository = config.create
        ? new codecommit.Repository(this, 'Repository', {
            repositoryName: config.repositoryName,
            description: `${SERVICE_NAME}: source of the delivery pipeline`,
          })
        : codecommit.Repository.fromRepositoryName(this, 'Repository', config.repositoryName);
      const action = new actions.CodeCommitSourceAction({
        actionName: 'Checkout',
        repository: this.repository,
        branch: config.branch,
        output: this.output,
        variablesNamespace: VARIABLES_NAMESPACE,
        trigger: actions.CodeCommitTrigger.EVENTS,
      });
      this.action = action;
      this.commitId = action.variables.commitId;
    }
  }
}
