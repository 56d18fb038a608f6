import { Stack, Validations } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
// cdk-nag's own renderer of CloudFormation references (Fn::GetAtt -> <Logical.Arn>, Ref -> <Name>),
// used so acknowledgement ids are computed exactly as cdk-nag prints them, never hand-copied.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';

/**
 * Acknowledges cdk-nag findings on `scope` and everything below it, all for
 * one reason. cdk-nag v3 matches finding ids exactly (no prefixes), so each
 * wildcard an IAM policy really needs is listed on its own.
 */
export function acknowledge(scope: IConstruct, reason: string, ...ids: string[]): void {
  Validations.of(scope).acknowledge(...ids.map((id) => ({ id, reason })));
}

/**
 * The id of the IAM5 finding for a wildcard resource, e.g.
 * `AwsSolutions-IAM5[Resource::<ArtifactsBucket1234.Arn>/*]` for `bucket.arnForObjects('*')`.
 * `resource` must be built from resources in `scope`'s own stack: a cross-stack
 * reference is rendered differently once CDK turns it into a stack output.
 */
export function wildcardResourceFinding(scope: IConstruct, resource: string): string {
  return `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(scope).resolve(resource))}]`;
}

/** The id of the IAM5 finding for a wildcard action, e.g. `AwsSolutions-IAM5[Action::s3:GetObject*]`. */
export function wildcardActionFinding(action: string): string {
  return `AwsSolutions-IAM5[Action::${action}]`;
}

/**
 * The findings CDK's standard grants on an S3 bucket raise (`grantRead`,
 * `grantReadWrite`, and the grants CodePipeline and CodeBuild make on their
 * artifact bucket): wildcard object actions, the key's wildcard actions when
 * the bucket is KMS-encrypted, and "every object in this bucket".
 */
export function s3GrantFindings(bucket: s3.IBucket): string[] {
  return [
    ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'].map(
      wildcardActionFinding,
    ),
    wildcardResourceFinding(bucket, bucket.arnForObjects('*')),
  ];
}
