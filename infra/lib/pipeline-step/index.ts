import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

import { pipelineArtifactObjects } from '../artifact-store';
import { BUILD_IMAGE } from '../build-project';
import { acknowledge, wildcardResourceFinding } from '../nag';

/**
 * npm 11 from the root package.json's `packageManager` when the image has an
 * older one: allowScripts and strict-allow-scripts (which install scripts may
 * run) are read from npm 11 on, and CodeBuild's Node.js 22 ships npm 10, which
 * would run every script. buildspec.yml does the same for the Build stage.
 */
export const NPM_FROM_PACKAGE_MANAGER =
  'if (( "$(npm --version | cut -d. -f1)" < 11 )); then npm install --global --no-audit --no-fund "$(node -p \'require("./package.json").packageManager\')"; fi';

/** The install phase of every pipeline step that runs the repository's code: the right npm, then the lockfile. */
export const INSTALL_FROM_LOCKFILE: readonly string[] = [NPM_FROM_PACKAGE_MANAGER, 'npm ci --no-audit --no-fund'];

export interface PipelineStepProps {
  /** The CodeBuild project's name (its log group is `/aws/codebuild/<name>`). */
  readonly projectName: string;
  /** Says what the step does, in the console and on the role. */
  readonly description: string;
  /** The commands, inline: the repository's buildspec.yml stays the one file the local rehearsal runs. */
  readonly buildSpec: codebuild.BuildSpec;
  /** Encrypts the step's output artifact; its input artifacts are decrypted with it. */
  readonly encryptionKey: kms.IKey;
  /** The pipeline's artifact bucket: the step may read `reads` and write `writes` there, nothing else. */
  readonly artifactBucket: s3.IBucket;
  /** The pipeline's physical name (it prefixes every artifact object). */
  readonly pipelineName: string;
  /** The artifact the step's actions take as input; it must have a name. */
  readonly reads: codepipeline.Artifact;
  /**
   * The artifact the step's action writes; it must have a name.
   * @default - the step writes nothing
   */
  readonly writes?: codepipeline.Artifact;
  /** What `cdk destroy` does with the step's logs. */
  readonly removalPolicy: RemovalPolicy;
  /**
   * The longest one run may take.
   * @default Duration.minutes(30)
   */
  readonly timeout?: Duration;
}

/**
 * A CodeBuild project that runs one kind of pipeline action from an inline
 * buildspec, with a role holding exactly the grants made here and by its
 * users: its logs, its key, its input artifact and (when it has one) its
 * output artifact. Like the build project's, the role is given to the project
 * through `withoutPolicyUpdates()`, so the read-write on the whole artifact
 * bucket that `CodeBuildAction` grants adds nothing.
 *
 * It runs outside any VPC: every call it makes goes to public endpoints
 * (npm, AWS APIs, the internet-facing load balancers).
 */
export class PipelineStep extends Construct {
  readonly project: codebuild.PipelineProject;
  /** The role the step runs with; `addToPolicy` adds what a step needs beyond artifacts and logs. */
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PipelineStepProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/codebuild/${props.projectName}`,
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
      description: props.description,
    });
    this.project = new codebuild.PipelineProject(this, 'Project', {
      role: this.role.withoutPolicyUpdates(),
      projectName: props.projectName,
      description: props.description,
      buildSpec: props.buildSpec,
      environment: { buildImage: BUILD_IMAGE, computeType: codebuild.ComputeType.MEDIUM, privileged: false },
      encryptionKey: props.encryptionKey,
      logging: { cloudWatch: { logGroup: this.logGroup } },
      timeout: props.timeout ?? Duration.minutes(30),
      grantReportGroupPermissions: false,
    });
    // No run may start before its permissions exist.
    this.project.node.addDependency(this.role);

    this.logGroup.grantWrite(this.role);
    const bucket = props.artifactBucket;
    const inputObjects = pipelineArtifactObjects(bucket, props.pipelineName, props.reads);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'ReadInputArtifact', actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [inputObjects] }),
    );
    const wildcards = [wildcardResourceFinding(this, inputObjects)];
    if (props.writes) {
      const outputObjects = pipelineArtifactObjects(bucket, props.pipelineName, props.writes);
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'WriteOutputArtifact', actions: ['s3:PutObject'], resources: [outputObjects] }));
      // CodeBuild checks the bucket's owner and region before it uploads.
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'LocateArtifactBucket', actions: ['s3:GetBucketAcl', 's3:GetBucketLocation'], resources: [bucket.bucketArn] }),
      );
      wildcards.push(wildcardResourceFinding(this, outputObjects));
      props.encryptionKey.grantEncryptDecrypt(this.role);
    } else {
      props.encryptionKey.grantDecrypt(this.role);
    }
    acknowledge(
      this.role,
      'CodePipeline gives each execution\'s artifact a random object name under <pipeline>/<artifact>/, known only at run time; ' +
        'the wildcard is confined to the artifact this step reads (and the one it writes), so it cannot touch another action\'s revision.',
      ...wildcards,
    );
    if (props.writes) {
      acknowledge(this.role, 'The pipeline\'s key encrypts the artifact this step writes: data keys are generated per object.', 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]');
    }
  }
}
