import type { ConfigKey } from '@conveyor/config';
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';

import { acknowledge, wildcardResourceFinding } from '../nag';
import { names } from '../names';

export interface ServiceParametersProps {
  /** The environment whose path (`/<service>/<environment>/`) the parameters live under. */
  readonly environmentName: string;
  /**
   * Non-secret config values, by the service's own config key. Unset keys get
   * no parameter (the service then uses its default, unless the key is
   * required in Parameter Store, like GREETING). Secrets do not belong here:
   * they would sit in the template; add them by hand as SecureString (README).
   */
  readonly values: Readonly<Partial<Record<ConfigKey, string>>>;
}

/**
 * The service's non-secret parameters in Parameter Store, and the one grant
 * that lets an instance read them (and SecureStrings added later by hand)
 * under this environment's path and nowhere else.
 */
export class ServiceParameters extends Construct {
  /** `/<service>/<environment>/`, the value of CONFIG_SSM_PATH on the instances. */
  readonly path: string;
  readonly parameters: readonly ssm.StringParameter[];

  constructor(scope: Construct, id: string, props: ServiceParametersProps) {
    super(scope, id);
    this.path = names.parameterPath(props.environmentName);
    this.parameters = Object.entries(props.values)
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(
        ([key, value]) =>
          new ssm.StringParameter(this, key, {
            parameterName: names.parameterName(props.environmentName, key),
            stringValue: value,
            description: `${key} for ${names.environmentStack(props.environmentName)} (managed by CDK; edit infra/config/deploy-config.ts)`,
            tier: ssm.ParameterTier.STANDARD,
          }),
      );
  }

  /**
   * Lets `grantee` read every parameter under this path, the way the service's
   * loader does (GetParametersByPath, recursive, with decryption), and decrypt
   * SecureStrings under this path only: KMS is reachable only through SSM
   * (kms:ViaService) and only for a parameter whose ARN is under the path
   * (SSM puts the parameter's ARN in the encryption context).
   */
  grantRead(role: iam.IRole): void {
    const stack = Stack.of(this);
    const pathWithoutSlashes = this.path.slice(1, -1); // conveyor-api/prod
    const parameterArn = (name: string): string =>
      stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name });
    const belowPath = parameterArn(`${pathWithoutSlashes}/*`);
    const anyKey = stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' });

    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadServiceParameters',
        actions: ['ssm:GetParametersByPath', 'ssm:GetParameters', 'ssm:GetParameter'],
        // The path itself (what GetParametersByPath is authorized against) and everything below it.
        resources: [parameterArn(pathWithoutSlashes), belowPath],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DecryptServiceSecureStrings',
        actions: ['kms:Decrypt'],
        // Any key the parameters might use (aws/ssm or your own), but only via SSM and only for this path.
        resources: [anyKey],
        conditions: {
          StringEquals: { 'kms:ViaService': `ssm.${stack.region}.amazonaws.com` },
          StringLike: { 'kms:EncryptionContext:PARAMETER_ARN': belowPath },
        },
      }),
    );
    acknowledge(
      role,
      `The service reads every parameter below ${this.path} (GetParametersByPath): the wildcard is that path, nothing wider.`,
      wildcardResourceFinding(this, belowPath),
    );
    acknowledge(
      role,
      'SecureStrings may use aws/ssm or any key you choose; decryption is confined by kms:ViaService to SSM and by the encryption context to parameters under this path.',
      wildcardResourceFinding(this, anyKey),
    );
  }
}
