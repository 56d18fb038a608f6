// The policy simulator module (test-support/iam-simulator.ts) itself: it must
// deny what IAM denies and allow what IAM allows, or every IAM test built on
// it proves nothing. It lives here because jest's roots are bin, lib and config.
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import fc from 'fast-check';

import { createTestApp } from '../../../test-support';
import { expectAllowed, expectDenied, resolveApp, simulate, TEST_ACCOUNT, type PolicyDocument, type SimulatedPrincipal } from '../../../test-support/iam-simulator';

const REGION = 'eu-west-1';
const BUCKET = 'arn:aws:s3:::artifacts';
const KEY = `arn:aws:kms:${REGION}:${TEST_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const OTHER_KEY = KEY.replace('1234abcd', '9999abcd');
const PARAMETERS = `arn:aws:ssm:${REGION}:${TEST_ACCOUNT}:parameter/svc/prod`;

const keyPolicyTrustingTheAccount: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${TEST_ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }],
};

const tlsOnlyBucketPolicy: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:*', Resource: [BUCKET, `${BUCKET}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
  ],
};

const principal: SimulatedPrincipal = {
  arn: `arn:aws:iam::${TEST_ACCOUNT}:role/instance`,
  identityPolicies: [
    {
      name: 'reader',
      document: {
        Version: '2012-10-17',
        Statement: [
          { Sid: 'Download', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: `${BUCKET}/bundles/*` },
          { Sid: 'Decrypt', Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY, Condition: { StringEquals: { 'kms:ViaService': `s3.${REGION}.amazonaws.com` } } },
          { Sid: 'Parameters', Effect: 'Allow', Action: 'ssm:GetParametersByPath', Resource: [PARAMETERS, `${PARAMETERS}/*`] },
          {
            Sid: 'DecryptParameters',
            Effect: 'Allow',
            Action: 'kms:Decrypt',
            Resource: KEY,
            Condition: { StringLike: { 'kms:EncryptionContext:PARAMETER_ARN': `${PARAMETERS}/*` } },
          },
        ],
      },
    },
  ],
  resourcePolicies: { [BUCKET]: tlsOnlyBucketPolicy, [KEY]: keyPolicyTrustingTheAccount, [OTHER_KEY]: keyPolicyTrustingTheAccount },
};

describe('iam-simulator', () => {
  it('when a request matches an Allow statement, then it is allowed, naming the statement', async () => {
    // Act
    const outcome = await simulate(principal, { action: 's3:GetObjectVersion', resource: `${BUCKET}/bundles/a.zip`, context: { 's3:versionid': 'v1', 'aws:SecureTransport': 'true' } });

    // Assert
    expect(outcome.decision).toBe('allowed');
    expect(outcome.reason).toContain('statement Download');
  });

  it('when the action, the resource ARN or a condition is wrong, then the request is denied', async () => {
    await expectDenied(principal, [
      { description: 'wrong action', action: 's3:PutObject', resource: `${BUCKET}/bundles/a.zip` },
      { description: 'wrong object prefix', action: 's3:GetObject', resource: `${BUCKET}/other/a.zip` },
      { description: 'wrong bucket', action: 's3:GetObject', resource: 'arn:aws:s3:::artifacts2/bundles/a.zip' },
      { description: 'wrong service in kms:ViaService', action: 'kms:Decrypt', resource: KEY, context: { 'kms:ViaService': `sqs.${REGION}.amazonaws.com` } },
      { description: 'condition key absent', action: 'kms:Decrypt', resource: KEY },
      { description: 'wrong key', action: 'kms:Decrypt', resource: OTHER_KEY, context: { 'kms:ViaService': `s3.${REGION}.amazonaws.com` } },
      { description: 'path prefix is not a path', action: 'ssm:GetParametersByPath', resource: `${PARAMETERS}-other` },
    ]);
  });

  it("when a bucket policy denies explicitly, then the identity policy's Allow does not help", async () => {
    // Act
    const outcome = await simulate(principal, { action: 's3:GetObject', resource: `${BUCKET}/bundles/a.zip`, context: { 'aws:SecureTransport': 'false' } });

    // Assert
    expect(outcome.decision).toBe('explicitly denied');
  });

  it('when the key policy does not trust the account or the role, then KMS denies although the identity policy allows', async () => {
    // Arrange
    const keyPolicyForSomeoneElse: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${TEST_ACCOUNT}:role/other` }, Action: 'kms:*', Resource: '*' }],
    };
    const withThatKey = { ...principal, resourcePolicies: { [KEY]: keyPolicyForSomeoneElse } };

    // Act
    const outcome = await simulate(withThatKey, { action: 'kms:Decrypt', resource: KEY, context: { 'kms:ViaService': `s3.${REGION}.amazonaws.com` } });

    // Assert
    expect(outcome.decision).toBe('implicitly denied');
    const withoutKeyPolicy = await simulate({ ...principal, resourcePolicies: {} }, { action: 'kms:Decrypt', resource: KEY });
    expect(withoutKeyPolicy.decision).toBe('invalid');
    expect(withoutKeyPolicy.reason).toContain('no key policy');
  });

  it('when the condition is on kms:EncryptionContext:<key>, then the context value decides (the library alone drops such keys)', async () => {
    // Arrange
    const request = (parameter: string) => ({ action: 'kms:Decrypt', resource: KEY, context: { 'kms:EncryptionContext:PARAMETER_ARN': parameter } });

    // Act / Assert
    await expectAllowed(principal, [request(`${PARAMETERS}/api-token`)]);
    await expectDenied(principal, [request(`arn:aws:ssm:${REGION}:${TEST_ACCOUNT}:parameter/svc/staging/api-token`)]);
  });

  it('when a request is malformed, then it is invalid and passes neither as allowed nor as denied', async () => {
    // Arrange
    const malformed = [
      { action: 's3:GetObjekt', resource: `${BUCKET}/bundles/a.zip` },
      { action: 's3:GetObject', resource: BUCKET },
      { action: 's3:GetObject', resource: `${BUCKET}/bundles/*` },
      { action: 's3:GetObject', resource: `${BUCKET}/bundles/a.zip`, context: { 'ssm:Recursive': 'true' } },
    ];

    // Act / Assert
    for (const request of malformed) {
      await expect(simulate(principal, request)).resolves.toMatchObject({ decision: 'invalid' });
    }
    await expect(expectDenied(principal, malformed)).rejects.toThrow(/4 of 4 request\(s\) .* not denied/);
  });

  it('when several requests are denied, then one failure message lists each of them', async () => {
    // Act
    const failure = expectAllowed(principal, [
      { action: 's3:GetObject', resource: `${BUCKET}/bundles/a.zip` },
      { action: 's3:DeleteObject', resource: `${BUCKET}/bundles/a.zip` },
      { action: 'ssm:GetParametersByPath', resource: `arn:aws:ssm:${REGION}:${TEST_ACCOUNT}:parameter/svc/staging`, description: 'read staging' },
    ]);

    // Assert
    await expect(failure).rejects.toThrow(/2 of 3 request\(s\) by arn:aws:iam::111111111111:role\/instance not allowed:\n {2}- s3:DeleteObject on arn:aws:s3:::artifacts\/bundles\/a\.zip: implicitly denied.*\n {2}- read staging: implicitly denied/);
  });

  it('when object keys vary, then exactly the keys under the granted prefix are readable', async () => {
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[a-z0-9]{1,8}(\/[a-z0-9._-]{1,12}){0,3}$/), async (key) => {
        const outcome = await simulate(principal, { action: 's3:GetObject', resource: `${BUCKET}/${key}` });
        expect(outcome.decision).toBe(key.startsWith('bundles/') ? 'allowed' : 'implicitly denied');
      }),
      { numRuns: 50 },
    );
  });

  describe('resolveApp (synthesized templates to concrete policies)', () => {
    it('when a role in one stack is granted a bucket and key of another, then its policies resolve to ARNs the simulator allows', async () => {
      // Arrange
      const app = createTestApp();
      const storage = new Stack(app, 'storage', { env: { region: REGION } });
      const key = new kms.Key(storage, 'Key');
      const bucket = new s3.Bucket(storage, 'Bucket', { encryptionKey: key, enforceSSL: true });
      const consumer = new Stack(app, 'consumer', { env: { region: REGION } });
      const role = new iam.Role(consumer, 'Role', {
        assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
        managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
        inlinePolicies: {
          Own: new iam.PolicyDocument({ statements: [new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [`arn:aws:sqs:${REGION}:${TEST_ACCOUNT}:q`] })] }),
        },
      });
      bucket.grantRead(role);

      // Act
      const resolved = resolveApp([storage, consumer]);
      const policies = resolved.rolePolicies('consumer', consumer.getLogicalId(role.node.defaultChild as iam.CfnRole));
      const bucketArn = resolved.arnOf('storage', storage.getLogicalId(bucket.node.defaultChild as s3.CfnBucket));
      const keyArn = resolved.arnOf('storage', storage.getLogicalId(key.node.defaultChild as kms.CfnKey));

      // Assert
      expect(bucketArn).toMatch(/^arn:aws:s3:::storage-bucket[0-9a-z]+$/);
      expect(keyArn).toMatch(new RegExp(`^arn:aws:kms:${REGION}:${TEST_ACCOUNT}:key/[0-9a-f-]{36}$`));
      expect(policies.unresolvedManagedPolicyArns).toEqual(['arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore']);
      expect(Object.keys(policies.resourcePolicies ?? {}).sort()).toEqual([bucketArn, keyArn].sort());
      expect(JSON.stringify(policies.identityPolicies)).not.toMatch(/"(Ref|Fn::[A-Za-z]+)"/);
      await expectAllowed(policies, [
        { action: 's3:GetObject', resource: `${bucketArn}/any/key`, context: { 'aws:SecureTransport': 'true' } },
        { action: 'kms:Decrypt', resource: keyArn },
        { action: 'sqs:SendMessage', resource: `arn:aws:sqs:${REGION}:${TEST_ACCOUNT}:q` },
      ]);
      await expectDenied(policies, [
        { action: 's3:PutObject', resource: `${bucketArn}/any/key`, context: { 'aws:SecureTransport': 'true' } },
        { action: 's3:GetObject', resource: `${bucketArn}/any/key`, context: { 'aws:SecureTransport': 'false' } },
        { action: 'kms:Encrypt', resource: keyArn },
      ]);
    });

    it('when a template uses an intrinsic it cannot resolve, then it says which and where', () => {
      // Arrange
      const resolved = resolveApp({ only: { Resources: { Role: { Type: 'AWS::IAM::Role', Properties: { Policies: [{ PolicyName: 'p', PolicyDocument: { 'Fn::If': ['c', 'a', 'b'] } }] } } } } });

      // Act / Assert
      expect(() => resolved.rolePolicies('only', 'Role')).toThrow('Fn::If (in only) is not resolvable offline');
      expect(() => resolved.rolePolicies('only', 'Nope')).toThrow('stack only has no resource Nope');
    });
  });
});
