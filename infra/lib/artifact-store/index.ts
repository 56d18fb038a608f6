import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

import { acknowledge, wildcardResourceFinding } from '../nag';
import { SecureBucket } from '../secure-bucket';

/**
 * The key prefix under which CodePipeline stores every execution's copy of
 * one artifact: `<pipeline name, first 20 characters>/<artifact name, first
 * 10 characters>/`, followed by a random object name per execution. Two
 * artifacts whose names share their first 10 characters share a prefix.
 */
export function pipelineArtifactPrefix(pipelineName: string, artifactName: string): string {
  return `${pipelineName.slice(0, 20)}/${artifactName.slice(0, 10)}/`;
}

/** The ARN pattern of every execution's copy of `artifact` in the pipeline's bucket. */
export function pipelineArtifactObjects(bucket: s3.IBucket, pipelineName: string, artifact: codepipeline.Artifact): string {
  const { artifactName } = artifact;
  if (artifactName === undefined) {
    throw new Error(`Artifact ${artifact.toString()} has no name: name it (new codepipeline.Artifact('<Name>')) so its objects can be told apart`);
  }
  return bucket.arnForObjects(`${pipelineArtifactPrefix(pipelineName, artifactName)}*`);
}

export interface ArtifactStoreProps {
  /** What `cdk destroy` does with the key and the buckets. */
  readonly removalPolicy: RemovalPolicy;
  /**
   * How long a pipeline artifact (a built bundle) is kept.
   *
   * CodeDeploy re-downloads the LAST deployed bundle from this bucket whenever
   * an instance is launched (scale-out, replacement) and on rollback. An
   * environment that goes longer than this without a deployment can no longer
   * launch instances, so keep it long and redeploy before it runs out.
   * @default Duration.days(365)
   */
  readonly artifactExpiration?: Duration;
  /**
   * How long an unused build cache survives. Each build rewrites the cache, so
   * only caches no build has touched for this long expire.
   * @default Duration.days(30)
   */
  readonly cacheExpiration?: Duration;
}

/**
 * Where the delivery pipeline keeps its state: one customer-managed key,
 * the artifact bucket (source and bundle zips), the build cache bucket
 * (npm and Turborepo caches) and the bucket their access logs go to.
 */
export class ArtifactStore extends Construct {
  /** Encrypts artifacts, the build cache and CodeBuild's output. */
  readonly key: kms.Key;
  readonly artifactBucket: s3.Bucket;
  readonly cacheBucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ArtifactStoreProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts the delivery pipeline artifacts, build cache and build output',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
      pendingWindow: Duration.days(7),
    });

    this.accessLogsBucket = new SecureBucket(this, 'AccessLogs', {
      expiration: Duration.days(90),
      removalPolicy: props.removalPolicy,
    }).bucket;

    this.artifactBucket = new SecureBucket(this, 'Artifacts', {
      encryptionKey: this.key,
      serverAccessLogs: { bucket: this.accessLogsBucket, prefix: 'artifacts/' },
      expiration: props.artifactExpiration ?? Duration.days(365),
      removalPolicy: props.removalPolicy,
    }).bucket;

    this.cacheBucket = new SecureBucket(this, 'BuildCache', {
      encryptionKey: this.key,
      serverAccessLogs: { bucket: this.accessLogsBucket, prefix: 'build-cache/' },
      expiration: props.cacheExpiration ?? Duration.days(30),
      removalPolicy: props.removalPolicy,
    }).bucket;
  }

  /**
   * Lets an environment's instances download bundles: the CodeDeploy agent
   * fetches each revision from the artifact bucket with the instance role
   * (GetObject, GetObjectVersion when the revision names a version).
   * Read-only, objects only, plus decryption with the artifact key through S3
   * only: S3 decrypts the object for the agent (kms:ViaService s3), so the
   * instance cannot use the key for anything else.
   *
   * The policy is created here, in the pipeline's stack, and attached to the
   * role: the environment stacks never reference the pipeline, so references
   * only go one way (pipeline -> environments).
   */
  grantBundleDownload(id: string, role: iam.IRole): iam.Policy {
    const objects = this.artifactBucket.arnForObjects('*');
    const policy = new iam.Policy(this, id, {
      roles: [role],
      statements: [
        new iam.PolicyStatement({ sid: 'DownloadBundles', actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [objects] }),
        new iam.PolicyStatement({
          sid: 'DecryptBundles',
          actions: ['kms:Decrypt'],
          resources: [this.key.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
        }),
      ],
    });
    acknowledge(
      policy,
      'Bundles are written under names CodePipeline generates per execution, so the instances may read any object of the artifact bucket (and nothing else).',
      wildcardResourceFinding(this, objects),
    );
    return policy;
  }
}
