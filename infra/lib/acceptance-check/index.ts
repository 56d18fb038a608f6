import type { RemovalPolicy } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

import { SERVICE_NAME } from '../names';
import { INSTALL_FROM_LOCKFILE, PipelineStep } from '../pipeline-step';

/** The workspace package holding the check; the local rehearsal runs the same one. */
export const ACCEPTANCE_PACKAGE = '@conveyor/acceptance';

export interface AcceptanceCheckProps {
  /** The pipeline's physical name (it prefixes every artifact object). */
  readonly pipelineName: string;
  /** The pipeline's artifact bucket. */
  readonly artifactBucket: s3.IBucket;
  /** The pipeline's key: decrypts the source artifact. */
  readonly encryptionKey: kms.IKey;
  /** The checked-out repository: the check runs from it, at the commit being released. */
  readonly source: codepipeline.Artifact;
  /** What `cdk destroy` does with the check's logs. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * After a non-production deploy and before anyone is asked to approve: calls
 * the environment's load balancer as a user would (`acceptance-check` of
 * `@conveyor/acceptance`: /health reports the commit being released, the
 * example route, the JSON 404, the security headers). A failed check fails the
 * stage, so the run stops before the approval.
 *
 * Reachability: the load balancers are internet-facing and their security
 * group accepts 80/443 from anywhere, so the project runs outside the VPC and
 * calls the public DNS name, as users do (in a VPC it would need a NAT of its
 * own in every environment's network).
 */
export class AcceptanceCheck extends Construct {
  readonly step: PipelineStep;
  private readonly source: codepipeline.Artifact;

  constructor(scope: Construct, id: string, props: AcceptanceCheckProps) {
    super(scope, id);
    this.source = props.source;
    this.step = new PipelineStep(this, 'Check', {
      pipelineName: props.pipelineName,
      artifactBucket: props.artifactBucket,
      encryptionKey: props.encryptionKey,
      removalPolicy: props.removalPolicy,
      projectName: `${SERVICE_NAME}-acceptance`,
      description: `${SERVICE_NAME}: acceptance check of a deployed environment through its load balancer`,
      reads: props.source,
      buildSpec: codebuild.BuildSpec.fromObject({
        version: '0.2',
        env: { shell: 'bash' },
        phases: {
          install: { 'runtime-versions': { nodejs: 22 }, commands: [...INSTALL_FROM_LOCKFILE] },
          build: {
            commands: [
              `npx turbo run build --filter=${ACCEPTANCE_PACKAGE}`,
              'npx acceptance-check --url "${SERVICE_URL}" --commit "${SOURCE_COMMIT_ID}"',
            ],
          },
        },
      }),
    });
  }

  /**
   * The action checking the environment at `serviceUrl` (`http(s)://<load balancer DNS name>`)
   * for `commitId` (the run's source commit variable).
   */
  action(serviceUrl: string, commitId: string, runOrder?: number): codepipeline.IAction {
    return new actions.CodeBuildAction({
      actionName: 'AcceptanceCheck',
      project: this.step.project,
      input: this.source,
      runOrder,
      environmentVariables: { SERVICE_URL: { value: serviceUrl }, SOURCE_COMMIT_ID: { value: commitId } },
    });
  }
}
