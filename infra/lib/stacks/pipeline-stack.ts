import { CfnOutput, type RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

import type { PipelineSettings, SourceConfig } from '../../config/schema';
import { ArtifactStore } from '../artifact-store';
import { ServiceBuild } from '../build-project';
import { names, SERVICE_NAME } from '../names';
import { NotificationTopic } from '../notifications';
import { DeliveryPipeline, type DeployTarget } from '../pipeline';
import { PullRequestChecks } from '../pull-requests';
import { PipelineSource } from '../source';

export interface PipelineStackProps extends StackProps {
  /** Where the code comes from. */
  readonly source: SourceConfig;
  /** The environments, in deployment order; the last is production. */
  readonly targets: readonly DeployTarget[];
  /** Who receives approval requests and failure notices. */
  readonly notificationEmails: readonly string[];
  /** What `cdk destroy` does with the key, the buckets, the build logs and reports. */
  readonly removalPolicy: RemovalPolicy;
  /** The deploy config's `pipeline`: the bootstrap qualifier and production's deployment window. */
  readonly settings: PipelineSettings;
  /**
   * Every stack of the app, by name: what `cdk diff` on a pull request compares against.
   * @default - this stack only
   */
  readonly appStackNames?: readonly string[];
}

/**
 * The delivery pipeline and everything it owns: the artifact store, the
 * source, the build, and a deployment to each environment. Deployed last,
 * because it deploys to the environments' deployment groups.
 */
export class PipelineStack extends Stack {
  readonly artifactStore: ArtifactStore;
  readonly source: PipelineSource;
  readonly build: ServiceBuild;
  readonly delivery: DeliveryPipeline;
  readonly notifications: NotificationTopic;
  readonly pullRequests: PullRequestChecks;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, { description: `${SERVICE_NAME}: the delivery pipeline`, ...props });

    this.artifactStore = new ArtifactStore(this, 'ArtifactStore', { removalPolicy: props.removalPolicy });
    this.notifications = new NotificationTopic(this, 'Notifications', {
      displayName: `${SERVICE_NAME} pipeline`,
      emails: props.notificationEmails,
    });
    this.source = new PipelineSource(this, 'Source', { config: props.source });
    this.build = new ServiceBuild(this, 'Build', {
      encryptionKey: this.artifactStore.key,
      cacheBucket: this.artifactStore.cacheBucket,
      artifactBucket: this.artifactStore.artifactBucket,
      removalPolicy: props.removalPolicy,
    });
    this.delivery = new DeliveryPipeline(this, 'Delivery', {
      artifactStore: this.artifactStore,
      source: this.source,
      build: this.build,
      targets: props.targets,
      notificationTopic: this.notifications.topic,
      bootstrapQualifier: props.settings.bootstrapQualifier,
      deploymentWindow: props.settings.deploymentWindow,
      removalPolicy: props.removalPolicy,
    });

    this.pullRequests = new PullRequestChecks(this, 'PullRequests', {
      source: props.source,
      repository: this.source.repository,
      stackNames: props.appStackNames ?? [this.stackName],
      removalPolicy: props.removalPolicy,
    });

    new CfnOutput(this, 'PipelineConsoleUrl', {
      description: 'Watch runs and approve production here',
      value: `https://${this.region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/${names.pipeline}/view?region=${this.region}`,
    });
  }
}
