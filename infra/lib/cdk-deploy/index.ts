import { type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

import { SERVICE_NAME } from '../names';
import { INSTALL_FROM_LOCKFILE, PipelineStep } from '../pipeline-step';

/** The file the synth writes into the cloud assembly: the CDK CLI version of the lockfile, which the deploy steps install. */
export const CLI_VERSION_FILE = 'cdk-cli-version';

/** The CDK bootstrap roles the deploy steps assume (`cdk bootstrap` creates them per account and region). */
export const BOOTSTRAP_ROLES = ['deploy', 'file-publishing'] as const;

export interface CdkDeploymentProps {
  /** The pipeline's physical name (it prefixes every artifact object). */
  readonly pipelineName: string;
  /** The pipeline's artifact bucket. */
  readonly artifactBucket: s3.IBucket;
  /** The pipeline's key: encrypts the cloud assembly. */
  readonly encryptionKey: kms.IKey;
  /** The checked-out repository, which the synth reads. */
  readonly source: codepipeline.Artifact;
  /** `cdk bootstrap --qualifier` of the account and region; it names the bootstrap roles. */
  readonly bootstrapQualifier: string;
  /** What `cdk destroy` does with the steps' logs. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Infrastructure from the push: one `cdk synth` per run, in the Build stage,
 * whose cloud assembly every later stack update deploys (promoted like the
 * bundle: no stage synthesizes again), and one CodeBuild project that deploys
 * named stacks from that assembly with `cdk deploy --app <assembly>`.
 *
 * Why CodeBuild running the CDK CLI, and not CloudFormation actions: the
 * environment stacks have file assets (the blue/green handler's bundle), which
 * CloudFormation actions would need separate publishing actions for; the CLI
 * publishes them and deploys the template in one step, through the same
 * bootstrap roles and with the same checks (bootstrap version, change set) as
 * the first, manual `cdk deploy`.
 *
 * Least privilege: the deploy role may only assume the account's CDK bootstrap
 * roles of this qualifier, deploy and file-publishing. What CloudFormation
 * itself may do is the bootstrap's CloudFormation execution role's business
 * (`cdk bootstrap --cloudformation-execution-policies`), as with a manual deploy.
 */
export class CdkDeployment extends Construct {
  /** The cloud assembly (`infra/cdk.out`) plus the CLI version file. */
  readonly assembly: codepipeline.Artifact;
  readonly synth: PipelineStep;
  readonly deploy: PipelineStep;
  /** The ARNs of the bootstrap roles the deploy step may assume. */
  readonly bootstrapRoleArns: readonly string[];

  constructor(scope: Construct, id: string, props: CdkDeploymentProps) {
    super(scope, id);
    this.assembly = new codepipeline.Artifact('Assembly');
    const common = {
      pipelineName: props.pipelineName,
      artifactBucket: props.artifactBucket,
      encryptionKey: props.encryptionKey,
      removalPolicy: props.removalPolicy,
    };

    this.synth = new PipelineStep(this, 'Synth', {
      ...common,
      projectName: `${SERVICE_NAME}-synth`,
      description: `${SERVICE_NAME}: cdk synth, the cloud assembly every stack update of the run deploys`,
      reads: props.source,
      writes: this.assembly,
      buildSpec: codebuild.BuildSpec.fromObject({
        version: '0.2',
        env: { shell: 'bash' },
        phases: {
          install: { 'runtime-versions': { nodejs: 22 }, commands: [...INSTALL_FROM_LOCKFILE] },
          build: {
            commands: [
              // The same offline synth as `npm run synth` on a laptop, cdk-nag included.
              'npm run synth',
              // The deploy steps install exactly the CLI the lockfile pins (npm's `latest` may refuse this aws-cdk-lib).
              `(cd infra && node -p "require('aws-cdk/package.json').version") > infra/cdk.out/${CLI_VERSION_FILE}`,
            ],
          },
        },
        artifacts: { 'base-directory': 'infra/cdk.out', files: ['**/*'] },
      }),
    });

    this.deploy = new PipelineStep(this, 'Deploy', {
      ...common,
      projectName: `${SERVICE_NAME}-cdk-deploy`,
      description: `${SERVICE_NAME}: cdk deploy of named stacks from the run's cloud assembly, through the CDK bootstrap roles`,
      reads: this.assembly,
      buildSpec: codebuild.BuildSpec.fromObject({
        version: '0.2',
        env: { shell: 'bash' },
        phases: {
          install: {
            'runtime-versions': { nodejs: 22 },
            commands: [`npm install --global --no-audit --no-fund "aws-cdk@$(cat ${CLI_VERSION_FILE})"`],
          },
          build: {
            commands: [
              // --exclusively: only the stacks named, never their dependencies (production must wait for its approval).
              'read -ra stacks <<< "${STACKS}" && cdk deploy --app . --exclusively --require-approval never --ci --progress events "${stacks[@]}"',
            ],
          },
        },
      }),
    });

    const stack = Stack.of(this);
    this.bootstrapRoleArns = BOOTSTRAP_ROLES.map(
      (role) => `arn:${stack.partition}:iam::${stack.account}:role/cdk-${props.bootstrapQualifier}-${role}-role-${stack.account}-${stack.region}`,
    );
    this.deploy.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'AssumeCdkBootstrapRoles', actions: ['sts:AssumeRole'], resources: [...this.bootstrapRoleArns] }),
    );
  }

  /** The Build stage's action that synthesizes the assembly from the source. */
  synthAction(source: codepipeline.Artifact): codepipeline.IAction {
    return new actions.CodeBuildAction({ actionName: 'Synth', project: this.synth.project, input: source, outputs: [this.assembly] });
  }

  /** An action that deploys `stackNames` (in dependency order) from the run's assembly. */
  deployAction(actionName: string, stackNames: readonly string[], runOrder?: number): codepipeline.IAction {
    return new actions.CodeBuildAction({
      actionName,
      project: this.deploy.project,
      input: this.assembly,
      runOrder,
      environmentVariables: { STACKS: { value: stackNames.join(' ') } },
    });
  }
}
