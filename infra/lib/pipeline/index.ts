import { ArnFormat, type RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

import type { DeploymentWindow } from '../../config/schema';
import { AcceptanceCheck } from '../acceptance-check';
import type { ArtifactStore } from '../artifact-store';
import type { ServiceBuild } from '../build-project';
import { CdkDeployment } from '../cdk-deploy';
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
  /** The environment's stack: the pipeline updates it from the run's cloud assembly right before the bundle. */
  readonly stackName: string;
  /** `http(s)://<load balancer DNS name>`: the acceptance check calls it after a non-production deploy. */
  readonly serviceUrl: string;
  /**
   * The alarms that roll a deployment of this environment back (the ones on its
   * deployment group). The Deploy stage does not enter while any is in ALARM.
   */
  readonly rollbackAlarms: readonly cloudwatch.IAlarm[];
}

/** A stage of the pipeline as planned from the environment list (what the tests and the README describe). */
export type PlannedStage =
  | {
      readonly kind: 'deploy';
      readonly name: string;
      readonly target: DeployTarget;
      /** Whether an acceptance check follows the deploy (every environment but production). */
      readonly acceptance: boolean;
    }
  | { readonly kind: 'approve'; readonly name: string; readonly target: DeployTarget };

/**
 * Deploy to each environment in order, with a manual approval right before
 * the last one (production). With a single environment: approve, then deploy.
 */
export function planDeployStages(targets: readonly DeployTarget[]): PlannedStage[] {
  const production = targets.at(-1);
  if (production === undefined) throw new Error('The pipeline needs at least one environment to deploy to.');
  return [
    ...targets.slice(0, -1).map((target) => ({ kind: 'deploy' as const, name: `Deploy-${target.environmentName}`, target, acceptance: true })),
    { kind: 'approve', name: `Approve-${production.environmentName}`, target: production },
    { kind: 'deploy', name: `Deploy-${production.environmentName}`, target: production, acceptance: false },
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
  /** `cdk bootstrap --qualifier` of the account and region: the stack updates assume its bootstrap roles. */
  readonly bootstrapQualifier: string;
  /**
   * When production's Deploy stage may be entered.
   * @default - any time
   */
  readonly deploymentWindow?: DeploymentWindow;
  /** What `cdk destroy` does with the logs of the synth, stack update and acceptance check projects. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The CodePipeline V2 pipeline: Source -> Build (bundle and cloud assembly)
 * -> UpdatePipeline -> Deploy to each non-production environment (stack,
 * bundle, acceptance check) -> Approve -> Deploy to production (stack, bundle).
 *
 * QUEUED execution mode: with SUPERSEDED, a newer push would overtake a run
 * waiting for approval and the approved commit would never reach production;
 * with QUEUED, runs go through the stages one after another, in order.
 *
 * Self-update: UpdatePipeline deploys the foundation and pipeline stacks from
 * the run's assembly. When the pipeline's definition changed, CodePipeline
 * lets the running action finish and then fails the executions in progress
 * (AWS: "Edit a pipeline in CodePipeline"); `restartExecutionOnUpdate` makes
 * CloudFormation start a new run, which fetches the branch's latest commit and
 * goes through the updated pipeline, where UpdatePipeline then changes
 * nothing. This is what CDK Pipelines' self-mutation does; in QUEUED mode it
 * also ends a run that was waiting further down (for the approval, say): the
 * new run carries the same or a newer commit and asks again.
 *
 * Stack order: each environment's stack is updated right before its bundle is
 * deployed, so a new Parameter Store key, alarm or capacity reaches an
 * environment before the release that needs it; production's stack waits
 * behind the same approval as its bundle. If a stack update fails, its stage
 * fails there: the bundle is not deployed to that environment, nor anything
 * to the environments after it.
 *
 * Stage conditions: a Deploy stage does not enter while one of its
 * environment's rollback alarms is in ALARM (the stage fails), and a failed
 * Deploy stage rolls back to the last successful run's artifacts: that run's
 * stack template and bundle.
 */
export class DeliveryPipeline extends Construct {
  readonly pipeline: codepipeline.Pipeline;
  /** The bundle CodeBuild produced: a CodeDeploy revision with appspec.yml at its root. */
  readonly bundle: codepipeline.Artifact;
  /** The synth, the self-update and each environment's stack update. */
  readonly infrastructure: CdkDeployment;
  /** The check after each non-production deploy. */
  readonly acceptance: AcceptanceCheck;

  constructor(scope: Construct, id: string, props: DeliveryPipelineProps) {
    super(scope, id);
    const { source, build } = props;
    this.bundle = new codepipeline.Artifact('Bundle');

    this.pipeline = new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineName: names.pipeline,
      pipelineType: codepipeline.PipelineType.V2,
      executionMode: codepipeline.ExecutionMode.QUEUED,
      artifactBucket: props.artifactStore.artifactBucket,
      restartExecutionOnUpdate: true,
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

    const stepProps = {
      pipelineName: names.pipeline,
      artifactBucket: props.artifactStore.artifactBucket,
      encryptionKey: props.artifactStore.key,
      source: source.output,
      removalPolicy: props.removalPolicy,
    };
    this.infrastructure = new CdkDeployment(this, 'Infrastructure', { ...stepProps, bootstrapQualifier: props.bootstrapQualifier });
    this.acceptance = new AcceptanceCheck(this, 'Acceptance', stepProps);
    // Same run order as the build: the synth runs beside the tests, and a failure of either stops the run.
    this.pipeline.stages[1]?.addAction(this.infrastructure.synthAction(source.output));
    this.pipeline.addStage({
      stageName: 'UpdatePipeline',
      actions: [this.infrastructure.deployAction('SelfUpdate', [names.foundationStack, names.pipelineStack])],
    });

    const executionUrl = this.executionConsoleUrl();
    for (const stage of planDeployStages(props.targets)) {
      if (stage.kind === 'deploy') {
        const { target } = stage;
        const window = stage.target === props.targets.at(-1) ? props.deploymentWindow : undefined;
        this.pipeline.addStage({
          stageName: stage.name,
          actions: [
            this.infrastructure.deployAction('UpdateStack', [target.stackName], 1),
            new actions.CodeDeployServerDeployAction({ actionName: 'Deploy', deploymentGroup: target.deploymentGroup, input: this.bundle, runOrder: 2 }),
            ...(stage.acceptance ? [this.acceptance.action(target.serviceUrl, source.commitId, 3)] : []),
          ],
          beforeEntry: { conditions: [{ result: codepipeline.Result.FAIL, rules: this.entryRules(target, window) }] },
          onFailure: { result: codepipeline.Result.ROLLBACK },
        });
        continue;
      }
      const approval = new actions.ManualApprovalAction({
        actionName: 'Approve',
        notificationTopic: props.notificationTopic,
        externalEntityLink: executionUrl,
        additionalInformation:
          `Commit ${source.commitId} passed the build, and the deploy and acceptance check of every environment before ${stage.target.environmentName}. ` +
          `The link opens this run: its Build action links to the build log and test report. Approve to update ${stage.target.environmentName}'s stack and deploy it there.`,
      });
      this.pipeline.addStage({ stageName: stage.name, actions: [approval] });
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

  /**
   * A Deploy stage's entry rules: one CloudWatchAlarm rule per rollback alarm
   * (the stage fails while any is in ALARM) and, for production when
   * configured, the deployment window. The pipeline's role reads the alarms.
   */
  private entryRules(target: DeployTarget, window: DeploymentWindow | undefined): codepipeline.Rule[] {
    const stack = Stack.of(this);
    const alarmNames = target.rollbackAlarms.map((alarm) => literalAlarmName(alarm));
    const rules = alarmNames.map(
      (alarmName) => new codepipeline.Rule({ name: alarmName, provider: 'CloudWatchAlarm', version: '1', configuration: { AlarmName: alarmName, AlarmStates: 'ALARM' } }),
    );
    if (alarmNames.length > 0) {
      this.pipeline.addToRolePolicy(
        new iam.PolicyStatement({
          sid: `ReadRollbackAlarmsOf${target.environmentName.replace(/[^A-Za-z0-9]/g, '')}`,
          actions: ['cloudwatch:DescribeAlarms'],
          resources: alarmNames.map((name) => stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME })),
        }),
      );
    }
    if (window) {
      rules.push(
        new codepipeline.Rule({
          name: `${target.environmentName}-deployment-window`,
          provider: 'DeploymentWindow',
          version: '1',
          configuration: { Cron: window.cron, TimeZone: window.timeZone },
        }),
      );
    }
    return rules;
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

/**
 * The alarm's name as written in its stack (the environments name their alarms
 * literally): a rule configuration and a policy then hold a plain string,
 * not a cross-stack reference that would pin the alarm.
 */
function literalAlarmName(alarm: cloudwatch.IAlarm): string {
  const name = (alarm.node.defaultChild as cloudwatch.CfnAlarm | undefined)?.alarmName;
  if (typeof name !== 'string' || Token.isUnresolved(name)) {
    throw new Error(`Alarm ${alarm.node.path} needs a literal alarmName to be a stage entry rule`);
  }
  return name;
}
