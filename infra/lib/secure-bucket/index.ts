import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

import { acknowledge } from '../nag';

export interface SecureBucketProps {
  /**
   * Customer-managed key for default encryption.
   * @default - SSE-S3. Log destinations need it: ALB access logs and S3 server
   * access logs cannot be written to a bucket whose default encryption is SSE-KMS.
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Where S3 writes this bucket's server access logs.
   * @default - none, for a bucket that is itself a log destination (logging it would need another log bucket, forever)
   */
  readonly serverAccessLogs?: { readonly bucket: s3.IBucket; readonly prefix: string };
  /** Objects are deleted this long after they were written. */
  readonly expiration: Duration;
  /** `DESTROY` also empties the bucket on stack deletion, so `cdk destroy` leaves nothing behind. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * An S3 bucket with the settings every bucket here needs: public access
 * blocked, TLS required, encrypted, objects expiring, and its access logged
 * (unless it is the log bucket).
 */
export class SecureBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    const destroy = props.removalPolicy === RemovalPolicy.DESTROY;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      encryption: props.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
      encryptionKey: props.encryptionKey,
      // S3 Bucket Keys cut KMS requests (and their cost) by reusing a data key per bucket.
      bucketKeyEnabled: props.encryptionKey !== undefined,
      serverAccessLogsBucket: props.serverAccessLogs?.bucket,
      serverAccessLogsPrefix: props.serverAccessLogs?.prefix,
      lifecycleRules: [{ expiration: props.expiration, abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: destroy,
    });
    if (props.serverAccessLogs === undefined) {
      acknowledge(
        this.bucket,
        'This bucket is the access-log destination; logging its own access would need yet another log bucket.',
        'AwsSolutions-S1',
      );
    }
  }
}
