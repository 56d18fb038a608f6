import { Stack } from 'aws-cdk-lib';
import type * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

import type { ArtifactStore } from '../artifact-store';
import type { ServiceBuild } from '../build';
import { acknowledge, s3GrantFindings } from '../nag';
import { names } from '../names';
import type { PipelineSource } from '../source';

/** One environment the pipeline deploys to. */
export interface DeployTarget {
  /** Names the pipeline stages (`Deploy-<name>`, `Approve-<name>`). */
  readonly environmentName: string;
  /** The deployment group the Deploy action starts a deployment in. */
  readonly deploymentGroup: codedeploy.IServerDeploymentGroup;
  /** The environment's instance role: the CodeDeploy agent downloads bundles with it. */
  readonly instanceRole: iam.IRole;
}

/** A stage of the pipeline as planned from the environment list (what the tests and the README describe). */
export type PlannedStage =
  | { readonly kind: 'deploy'; readonly name: string; readonly target: DeployTarget }
  | { readonly kind: 'approve'; readonly name: string; readonly target: DeployTarget };

/**
 * Deploy to each environment in order, with a manual approval right before
 * the last one (production). With a single environment: approve, then deploy.
 */
export function planDeployStages(targets: readonly DeployTarget[]): PlannedStage[] {
  const production = targets.at(-1);
  if (production === undefined) throw new Error('The pipeline needs at least one environment to deploy to.');
  return [
    ...targets.slice(0, -1).map((target) => ({ kind: 'deploy' as const, name: `Deploy-${target.environmentName}`, target })),
    { kind: 'approve', name: `Approve-${production.environmentName}`, target: production },
    { kind: 'deploy', name: `Deploy-${production.environmentName}`, target: production },
  ];
}

export interface DeliveryPipelineProps {
  /** The KMS-encrypted artifact bucket and its key; each environment's instances are granted bundle downloads from it. */
  readonly artifactStore: ArtifactStore;
  /** The Source stage's action, its output artifact and its trigger. */
  readonly source: PipelineSource;
  /** The CodeBuild project the Build stage runs. */
  readonly build: ServiceBuild;
  /** In deployment order; the last one is production. */
  readonly targets: readonly DeployTarget[];
  /** Approval requests and failures are published here. */
  readonly notificationTopic: sns.ITopic;
}

/**
 * The CodePipeline V2 pipeline: Source -> Build -> Deploy to each
 * non-production environment -> Approve -> Deploy to production.
 *
 * QUEUED execution mode: with SUPERSEDED, a newer push would overtake a run
 * waiting for approval and the approved commit would never reach production;
 * with QUEUED, runs go through the stages one after another, in order.
 */
export class DeliveryPipeline extends Construct {
  readonly pipeline: codepipeline.Pipeline;
  /** The bundle CodeBuild produced: a CodeDeploy revision with appspec.yml at its root. */
  readonly bundle: codepipeline.Artifact;

  constructor(scope: Construct, id: string, props: DeliveryPipelineProps) {
    super(scope, id);
    const { source, build } = props;
    this.bundle = new codepipeline.Artifact('Bundle');

    this.pipeline = new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineName: names.pipeline,
      pipelineType: codepipeline.PipelineType.V2,
      executionMode: codepipeline.ExecutionMode.QUEUED,
      artifactBucket: props.artifactStore.artifactBucket,
      restartExecutionOnUpdate: false,
      triggers: source.trigger ? [source.trigger] : undefined,
      stages: [
        { stageName: 'Source', actions: [source.action] },
        {
          stageName: 'Build',
          actions: [
            new actions.CodeBuildAction({
              actionName: 'BuildTestPackage',
              project: build.project,
              input: source.output,
              outputs: [this.bundle],
              // The zip CodePipeline hands CodeBuild has no .git: pass what the build info needs.
              environmentVariables: {
                SOURCE_COMMIT_ID: { value: source.commitId },
                PIPELINE_EXECUTION_ID: { value: '#{codepipeline.PipelineExecutionId}' },
              },
            }),
          ],
        },
      ],
    });

    // Instead of the read-write on the whole bucket CDK grants a build with an output:
    // the build reads the source and writes the bundle, and may not touch the revisions
    // other executions left there (one may be waiting for the production approval).
    build.grantPipelineArtifacts({ pipelineName: names.pipeline, input: source.output, output: this.bundle });

    const executionUrl = this.executionConsoleUrl();
    for (const stage of planDeployStages(props.targets)) {
      const action =
        stage.kind === 'approve'
          ? new actions.ManualApprovalAction({
              actionName: 'Approve',
              notificationTopic: props.notificationTopic,
              externalEntityLink: executionUrl,
              additionalInformation:
                `Commit ${source.commitId} passed the build and every environment before ${stage.target.environmentName}. ` +
                `The link opens this run: its Build action links to the build log and test report. Approve to deploy it to ${stage.target.environmentName}.`,
            })
          : new actions.CodeDeployServerDeployAction({
              actionName: 'Deploy',
              deploymentGroup: stage.target.deploymentGroup,
              input: this.bundle,
            });
      this.pipeline.addStage({ stageName: stage.name, actions: [action] });
    }
    for (const target of props.targets) {
      props.artifactStore.grantBundleDownload(`InstancesOf${target.environmentName}DownloadBundles`, target.instanceRole);
    }
    // The source action's role is created with the source (to grant both connection
    // permission prefixes); the pipeline grants it artifact access when the action binds.
    for (const scope of [this.pipeline, source]) {
      acknowledge(
        scope,
        'CDK\'s grants for the pipeline and its actions on the artifact bucket: object wildcards in that one bucket and its key, whose object names CodePipeline generates per execution.',
        ...s3GrantFindings(props.artifactStore.artifactBucket),
      );
    }

    this.pipeline.notifyOn('Failures', props.notificationTopic, {
      events: [
        codepipeline.PipelineNotificationEvents.PIPELINE_EXECUTION_FAILED,
        codepipeline.PipelineNotificationEvents.MANUAL_APPROVAL_FAILED,
      ],
    });
  }

  /** The console page of the running execution (`#{codepipeline.PipelineExecutionId}` is resolved by CodePipeline). */
  private executionConsoleUrl(): string {
    const region = Stack.of(this).region;
    return (
      `https://${region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/${names.pipeline}` +
      `/executions/#{codepipeline.PipelineExecutionId}/timeline?region=${region}`
    );
  }
}
