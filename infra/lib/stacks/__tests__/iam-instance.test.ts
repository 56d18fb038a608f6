// The instance role, checked with the policy simulator: what the CodeDeploy
// agent and the service really call on an instance, evaluated against the
// synthesized policies of every environment (identity policies from the
// environment stack AND the pipeline stack, the artifact bucket's and key's
// policies), for the shipped config and a frozen three-environment fixture.
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import type { CfnKey } from 'aws-cdk-lib/aws-kms';
import type { CfnBucket } from 'aws-cdk-lib/aws-s3';

import { synthConveyor, testConfig, shippedEnvironment } from '../../../test-support';
import { expectAllowed, expectDenied, resolveApp, TEST_ACCOUNT, type PolicyDocument, type SimulatedPrincipal, type SimulatedRequest } from '../../../test-support/iam-simulator';
import { names, SERVICE_NAME } from '../../names';

/** A fork's config, frozen here so the checks do not follow the example's values: three environments, another region. */
function threeEnvironmentConfig() {
  const { source } = testConfig();
  return testConfig({
    region: 'eu-central-1',
    source: source.kind === 'github' ? { ...source, connectionArn: source.connectionArn.replace(/:codeconnections:[^:]+:/, ':codeconnections:eu-central-1:') } : source,
    environments: [
      { ...shippedEnvironment('staging'), name: 'dev' },
      { ...shippedEnvironment('staging'), name: 'qa' },
      { ...shippedEnvironment('prod'), name: 'live' },
    ],
  });
}

/** The shape of the key policy AWS gives its managed key aws/ssm (the default for SecureString). */
function awsManagedSsmKeyPolicy(region: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Allow access through AWS Systems Manager for all principals in the account that are authorized to use AWS Systems Manager',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:CreateGrant', 'kms:DescribeKey'],
        Resource: '*',
        Condition: { StringEquals: { 'kms:ViaService': `ssm.${region}.amazonaws.com`, 'kms:CallerAccount': TEST_ACCOUNT } },
      },
      { Sid: 'Allow direct access to key metadata to the account', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${TEST_ACCOUNT}:root` }, Action: ['kms:Describe*', 'kms:Get*', 'kms:List*', 'kms:RevokeGrant'], Resource: '*' },
    ],
  };
}

/** The default key policy of a customer-managed key created in the console or CLI: IAM policies decide. */
const customerKeyPolicy: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${TEST_ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }],
};

interface InstanceCase {
  readonly environment: string;
  /** An instance's session with the role, as the agent and the service make their calls. */
  readonly principal: SimulatedPrincipal;
  readonly unresolvedManagedPolicyArns: readonly string[];
  readonly region: string;
  readonly artifactBucketArn: string;
  readonly artifactKeyArn: string;
  readonly cacheBucketArn: string;
  readonly ssmKeyArn: string;
  readonly customerKeyArn: string;
  readonly otherEnvironments: readonly string[];
}

function instanceCases(config: ReturnType<typeof testConfig>): InstanceCase[] {
  const stacks = synthConveyor(config);
  const resolved = resolveApp([stacks.foundation, ...stacks.environments, stacks.pipeline]);
  const { pipeline } = stacks;
  const store = pipeline.artifactStore;
  const artifactBucketArn = resolved.arnOf(pipeline.stackName, pipeline.getLogicalId(store.artifactBucket.node.defaultChild as CfnBucket));
  const cacheBucketArn = resolved.arnOf(pipeline.stackName, pipeline.getLogicalId(store.cacheBucket.node.defaultChild as CfnBucket));
  const artifactKeyArn = resolved.arnOf(pipeline.stackName, pipeline.getLogicalId(store.key.node.defaultChild as CfnKey));
  const ssmKeyArn = `arn:aws:kms:${config.region}:${TEST_ACCOUNT}:key/0a1b2c3d-aaaa-4bbb-8ccc-ddddeeeeffff`;
  const customerKeyArn = `arn:aws:kms:${config.region}:${TEST_ACCOUNT}:key/9f8e7d6c-1111-4222-8333-444455556666`;
  const environmentNames = stacks.environments.map((stack) => stack.environmentName);

  return stacks.environments.map((stack) => {
    const role = resolved.rolePolicies(stack.stackName, stack.getLogicalId(stack.fleet.role.node.defaultChild as CfnRole));
    return {
      environment: stack.environmentName,
      principal: {
        arn: `arn:aws:sts::${TEST_ACCOUNT}:assumed-role/${role.roleName}/i-0123456789abcdef0`,
        identityPolicies: role.identityPolicies,
        resourcePolicies: { ...role.resourcePolicies, [ssmKeyArn]: awsManagedSsmKeyPolicy(config.region), [customerKeyArn]: customerKeyPolicy },
      },
      unresolvedManagedPolicyArns: role.unresolvedManagedPolicyArns,
      region: config.region,
      artifactBucketArn,
      artifactKeyArn,
      cacheBucketArn,
      ssmKeyArn,
      customerKeyArn,
      otherEnvironments: environmentNames.filter((name) => name !== stack.environmentName),
    };
  });
}

/** What the CodeDeploy agent does to fetch a revision: GetObject (with the version id when the bucket is versioned) over TLS; S3 decrypts with the artifact key. */
function bundleDownload(c: InstanceCase): SimulatedRequest[] {
  // CodePipeline's layout: <bucket>/<pipeline name, 20 chars>/<artifact name, 10 chars>/<random per execution>.
  const bundle = `${c.artifactBucketArn}/${names.pipeline.slice(0, 20)}/Bundle/Xk3mQ9z`;
  return [
    { description: 'agent: GetObject of the bundle', action: 's3:GetObject', resource: bundle, context: { 'aws:SecureTransport': 'true' } },
    {
      description: 'agent: GetObject of a bundle version',
      action: 's3:GetObjectVersion',
      resource: bundle,
      context: { 'aws:SecureTransport': 'true', 's3:versionid': '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY' },
    },
    {
      description: 'S3 decrypting the bundle with the artifact key for the agent',
      action: 'kms:Decrypt',
      resource: c.artifactKeyArn,
      context: { 'kms:ViaService': `s3.${c.region}.amazonaws.com`, 'kms:CallerAccount': TEST_ACCOUNT, 'kms:EncryptionContext:aws:s3:arn': c.artifactBucketArn },
    },
  ];
}

function parameterArn(c: InstanceCase, environment: string, name = ''): string {
  return `arn:aws:ssm:${c.region}:${TEST_ACCOUNT}:parameter/${SERVICE_NAME}/${environment}${name}`;
}

/** What the service's loader does at boot: GetParametersByPath(/<service>/<env>/, Recursive, WithDecryption), and SSM decrypting each SecureString. */
function parameterRead(c: InstanceCase, environment: string): SimulatedRequest[] {
  const secret = parameterArn(c, environment, '/api-token');
  const viaSsm = (key: string, keyName: string): SimulatedRequest => ({
    description: `SSM decrypting ${secret} with ${keyName}`,
    action: 'kms:Decrypt',
    resource: key,
    context: { 'kms:ViaService': `ssm.${c.region}.amazonaws.com`, 'kms:CallerAccount': TEST_ACCOUNT, 'kms:EncryptionContext:PARAMETER_ARN': secret },
  });
  return [
    // SSM authorizes GetParametersByPath against the requested path; both spellings of its ARN are checked.
    { description: `GetParametersByPath /${SERVICE_NAME}/${environment}/ (recursive)`, action: 'ssm:GetParametersByPath', resource: parameterArn(c, environment, '/'), context: { 'ssm:Recursive': 'true' } },
    { description: `GetParametersByPath /${SERVICE_NAME}/${environment} (recursive)`, action: 'ssm:GetParametersByPath', resource: parameterArn(c, environment), context: { 'ssm:Recursive': 'true' } },
    viaSsm(c.ssmKeyArn, 'aws/ssm'),
    viaSsm(c.customerKeyArn, 'a customer-managed key'),
  ];
}

describe.each([
  ['the shipped config', () => testConfig()],
  ['a three-environment fork in another region', threeEnvironmentConfig],
])('instance role, for %s', (_label, config) => {
  const cases = instanceCases(config());

  it.each(cases.map((c) => [c.environment, c] as const))(
    'when the CodeDeploy agent on a %s instance downloads a bundle, then S3 and KMS allow every call',
    async (_environment, c) => {
      await expectAllowed(c.principal, bundleDownload(c));
    },
  );

  it.each(cases.map((c) => [c.environment, c] as const))(
    'when the service on a %s instance reads its Parameter Store path with decryption, then every call is allowed',
    async (_environment, c) => {
      await expectAllowed(c.principal, parameterRead(c, c.environment));
    },
  );

  it.each(cases.map((c) => [c.environment, c] as const))(
    "when a %s instance reaches for anything else (another environment's config, writes, the artifact key outside S3), then it is denied",
    async (_environment, c) => {
      const bundle = `${c.artifactBucketArn}/${names.pipeline.slice(0, 20)}/Bundle/Xk3mQ9z`;
      await expectDenied(c.principal, [
        // Another environment's path. (Decryption with aws/ssm is not in this list: that key's
        // policy lets every principal of the account use it through SSM, so SSM's own check of
        // the path is what keeps another environment's SecureStrings out of reach.)
        ...c.otherEnvironments.flatMap((other) => parameterRead(c, other).filter((request) => request.resource !== c.ssmKeyArn)),
        { description: 'GetParametersByPath on the service root (every environment)', action: 'ssm:GetParametersByPath', resource: parameterArn(c, '').slice(0, -1), context: { 'ssm:Recursive': 'true' } },
        { description: 'PutParameter in its own path', action: 'ssm:PutParameter', resource: parameterArn(c, c.environment, '/greeting') },
        { description: 'decrypt with aws/ssm outside SSM', action: 'kms:Decrypt', resource: c.ssmKeyArn, context: { 'kms:EncryptionContext:PARAMETER_ARN': parameterArn(c, c.environment, '/api-token') } },
        { description: 'overwrite a bundle', action: 's3:PutObject', resource: bundle, context: { 'aws:SecureTransport': 'true' } },
        { description: 'delete a bundle', action: 's3:DeleteObject', resource: bundle, context: { 'aws:SecureTransport': 'true' } },
        { description: 'read the build cache', action: 's3:GetObject', resource: `${c.cacheBucketArn}/codebuild/x`, context: { 'aws:SecureTransport': 'true' } },
        { description: 'download a bundle without TLS', action: 's3:GetObject', resource: bundle, context: { 'aws:SecureTransport': 'false' } },
        { description: 'decrypt with the artifact key directly, not through S3', action: 'kms:Decrypt', resource: c.artifactKeyArn, context: { 'kms:CallerAccount': TEST_ACCOUNT } },
        { description: 'encrypt with the artifact key through S3', action: 'kms:GenerateDataKey', resource: c.artifactKeyArn, context: { 'kms:ViaService': `s3.${c.region}.amazonaws.com` } },
      ]);
    },
  );

  it.each(cases.map((c) => [c.environment, c] as const))(
    'when a %s instance role is synthesized, then its only managed policy is the Session Manager one (not evaluable offline)',
    (_environment, c) => {
      expect(c.unresolvedManagedPolicyArns).toEqual(['arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore']);
    },
  );
});
