import { configKeys } from '@conveyor/config';
import fc from 'fast-check';

import { deployConfigs, exampleDeployConfig as deployConfig } from '../../test-support';
import { DeployConfigError, parameterValues, parseDeployConfig, productionEnvironment, stackParameters, type DeployConfigInput } from '../schema';

// Exact values come from the frozen copy of the example (test-support), never from
// deploy-config.ts, which a fork edits; deploy-config.test.ts checks the real file.

type EnvironmentInput = DeployConfigInput['environments'][number];

function shipped(name: string): EnvironmentInput {
  const environment = deployConfig.environments.find((env) => env.name === name);
  if (environment === undefined) throw new Error(`no ${name} environment in the example config`);
  return environment;
}
const staging = shipped('staging');
const prod = shipped('prod');

function withEnvironments(...environments: EnvironmentInput[]): DeployConfigInput {
  return { ...deployConfig, source: { ...deployConfig.source }, environments };
}

function problemsOf(input: unknown): readonly string[] {
  try {
    parseDeployConfig(input);
  } catch (error) {
    if (error instanceof DeployConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

describe('parseDeployConfig', () => {
  it('when the example config is parsed, then it is valid and prod is the production environment', () => {
    // Act
    const config = parseDeployConfig(deployConfig);

    // Assert
    expect(config.environments.map((env) => env.name)).toEqual(['staging', 'prod']);
    expect(productionEnvironment(config).name).toBe('prod');
    expect(config.environments.map((env) => env.deploymentStyle)).toEqual(['in-place', 'blue-green']);
  });

  it('when optional fields are left out, then the documented defaults are filled in', () => {
    // Arrange
    const minimal = {
      region: 'eu-west-1',
      source: { kind: 'codecommit', repositoryName: 'your-repo' },
      environments: [{ name: 'prod', instanceType: 't3.micro', capacity: { min: 1, desired: 1, max: 2 }, greeting: 'Hi' }],
    };

    // Act
    const config = parseDeployConfig(minimal);

    // Assert
    expect(config.source).toEqual({ kind: 'codecommit', repositoryName: 'your-repo', create: false, branch: 'main', pullRequestChecks: true });
    expect(config.environments[0]).toMatchObject({
      deploymentStyle: 'in-place',
      blueGreen: { terminationWaitMinutes: 15 },
      natGateways: 1,
      alarms: { target5xxPerMinute: 5, unhealthyHosts: 1, p99LatencySeconds: 2 },
    });
    expect(config.notificationEmails).toEqual([]);
    expect(config.removalPolicy).toBe('destroy');
  });

  it('when an environment asks for blue/green with a termination wait, then the config keeps both', () => {
    // Act
    const config = parseDeployConfig(
      withEnvironments(staging, { ...prod, deploymentStyle: 'blue-green', blueGreen: { terminationWaitMinutes: 2880 } }),
    );

    // Assert
    expect(config.environments[1]).toMatchObject({ deploymentStyle: 'blue-green', blueGreen: { terminationWaitMinutes: 2880 } });
  });

  it.each([
    ['an instance type without a family', withEnvironments({ ...staging, instanceType: 't3small' }), 'environments[0].instanceType'],
    ['desired capacity above max', withEnvironments(staging, { ...prod, capacity: { min: 2, desired: 5, max: 4 } }), 'environments[1].capacity'],
    ['max equal to min', withEnvironments({ ...staging, capacity: { min: 1, desired: 1, max: 1 } }), 'environments[0].capacity'],
    ['two environments with one name', withEnvironments(staging, { ...prod, name: 'staging' }), 'environments[1].name'],
    ['an upper-case environment name', withEnvironments({ ...staging, name: 'Staging' }), 'environments[0].name'],
    ['an unknown deployment style', withEnvironments({ ...staging, deploymentStyle: 'canary' as never }), 'environments[0].deploymentStyle'],
    ['a termination wait above CodeDeploy\'s 2880 minutes', withEnvironments({ ...staging, blueGreen: { terminationWaitMinutes: 2881 } }), 'environments[0].blueGreen.terminationWaitMinutes'],
    ['a negative termination wait', withEnvironments(staging, { ...prod, blueGreen: { terminationWaitMinutes: -1 } }), 'environments[1].blueGreen.terminationWaitMinutes'],
    ['a fractional termination wait', withEnvironments({ ...staging, blueGreen: { terminationWaitMinutes: 1.5 } }), 'environments[0].blueGreen.terminationWaitMinutes'],
    ['an empty greeting', withEnvironments({ ...staging, greeting: '  ' }), 'environments[0].greeting'],
    ['a log level the service does not know', withEnvironments({ ...staging, logLevel: 'verbose' as never }), 'environments[0].logLevel'],
    ['three NAT gateways', withEnvironments({ ...staging, natGateways: 3 }), 'environments[0].natGateways'],
    ['a negative latency threshold', withEnvironments({ ...staging, alarms: { p99LatencySeconds: -1 } }), 'environments[0].alarms.p99LatencySeconds'],
    [
      'a certificate from another region',
      withEnvironments({ ...staging, certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012' }),
      'environments[0].certificateArn',
    ],
    [
      'a certificate without its domain name before production',
      withEnvironments({ ...staging, certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012' }, prod),
      'environments[0].domainName',
    ],
    ['a domain name without a certificate', withEnvironments({ ...staging, domainName: 'staging.example.com' }, prod), 'environments[0].domainName'],
    ['an uppercase domain name', withEnvironments({ ...staging, domainName: 'Staging.Example.com' }, prod), 'environments[0].domainName'],
    ['no environment at all', withEnvironments(), 'environments'],
    ['a misspelt field', withEnvironments({ ...staging, instanceTyp: 't3.small' } as never), 'environments[0]'],
    ['an invalid email', { ...deployConfig, notificationEmails: ['ops.example.com'] }, 'notificationEmails[0]'],
    ['an invalid region', { ...deployConfig, region: 'Ireland' }, 'region'],
    ['a malformed connection ARN', { ...deployConfig, source: { ...deployConfig.source, connectionArn: 'arn:aws:iam::1:role/x' } }, 'source.connectionArn'],
    [
      'a connection from another region',
      {
        ...deployConfig,
        source: { ...deployConfig.source, connectionArn: 'arn:aws:codeconnections:eu-west-1:123456789012:connection/12345678-1234-1234-1234-123456789012' },
      },
      'source.connectionArn',
    ],
    ['an unknown source kind', { ...deployConfig, source: { kind: 'bitbucket' } }, 'source.kind'],
  ])('when the config has %s, then it is rejected naming %s', (_case, input, fieldPath) => {
    // Act
    const problems = problemsOf(input);

    // Assert
    expect(problems.some((problem) => problem.startsWith(`${fieldPath}: `))).toBe(true);
  });

  it('when several fields are invalid, then one error lists every one of them with its path', () => {
    // Arrange
    const input = { ...withEnvironments({ ...staging, instanceType: 'big' }), region: 'nowhere' };

    // Act
    const act = (): unknown => parseDeployConfig(input);

    // Assert
    expect(act).toThrow(DeployConfigError);
    expect(act).toThrow(/infra\/config\/deploy-config\.ts[\s\S]*- region: [\s\S]*- environments\[0\]\.instanceType: /);
  });

  it('when any generated valid config is parsed, then it is accepted and its last environment is production', () => {
    fc.assert(
      fc.property(deployConfigs({ maxEnvironments: 5 }), (input) => {
        // Act
        const config = parseDeployConfig(input);

        // Assert
        expect(productionEnvironment(config).name).toBe(input.environments.at(-1)?.name);
        expect(config.environments.map((env) => env.name)).toEqual(input.environments.map((env) => env.name));
      }),
      { numRuns: 200 },
    );
  });

  it('when a generated valid config repeats an environment name, then the duplicate is rejected by its path', () => {
    fc.assert(
      fc.property(deployConfigs({ maxEnvironments: 4 }), (input) => {
        // Arrange
        const [first] = input.environments;
        const duplicated = { ...input, environments: [...input.environments, { ...first!, name: first!.name }] };

        // Act
        const problems = problemsOf(duplicated);

        // Assert
        expect(problems).toContain(`environments[${input.environments.length}].name: duplicates environment "${first!.name}"`);
      }),
      { numRuns: 100 },
    );
  });

});

describe('stackParameters (the config keys the environment stacks write)', () => {
  it.each(Object.entries(stackParameters))(
    'when %s is written by the stack, then it is required in the deploy config exactly when the service requires it in Parameter Store',
    (_field, { key, required }) => {
      // Assert
      expect(Object.keys(configKeys)).toContain(key);
      expect(required).toBe((configKeys[key] as { ssmRequired?: boolean }).ssmRequired === true);
    },
  );

  it('when a required parameter field is missing, then the config is rejected naming it (and the type says so too)', () => {
    // Arrange
    const { greeting: _omitted, ...withoutGreeting } = staging;
    // @ts-expect-error -- greeting is required in the deploy config's type, as the service requires GREETING on AWS
    const typed: EnvironmentInput = withoutGreeting;

    // Act
    const problems = problemsOf(withEnvironments(typed));

    // Assert
    expect(problems).toContain('environments[0].greeting: Invalid input: expected string, received undefined');
  });

  it('when the example environments are parsed, then the stack writes each set field under its config key, and nothing for unset ones', () => {
    // Act
    const config = parseDeployConfig(deployConfig);

    // Assert
    expect(config.environments.map(parameterValues)).toEqual([{ GREETING: 'Hello from staging', LOG_LEVEL: 'debug' }, { GREETING: 'Hello' }]);
  });

  it('when any generated valid config is parsed, then every environment writes each required key', () => {
    fc.assert(
      fc.property(deployConfigs(), (input) => {
        // Act
        const config = parseDeployConfig(input);

        // Assert
        const required = Object.values(stackParameters).filter((p) => p.required).map((p) => p.key);
        for (const env of config.environments) expect(Object.keys(parameterValues(env))).toEqual(expect.arrayContaining(required));
      }),
      { numRuns: 100 },
    );
  });
});

describe('pull-request fields of the source', () => {
  const githubSource = { ...deployConfig.source, connectionArn: 'arn:aws:codeconnections:us-east-1:111122223333:connection/0f0e0d0c-0b0a-4999-8888-777766665555' };
  const providerArn = 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com';

  it('when the GitHub source leaves them out, then the diff role is off and no provider is named', () => {
    // Act
    const config = parseDeployConfig({ ...deployConfig, source: githubSource });

    // Assert
    expect(config.source).toMatchObject({ kind: 'github', pullRequestDiffRole: false });
    expect(config.source).not.toHaveProperty('githubOidcProviderArn');
  });

  it("when the diff role is on with the account's existing provider, then both are kept", () => {
    // Act
    const config = parseDeployConfig({ ...deployConfig, source: { ...githubSource, pullRequestDiffRole: true, githubOidcProviderArn: providerArn } });

    // Assert
    expect(config.source).toMatchObject({ pullRequestDiffRole: true, githubOidcProviderArn: providerArn });
  });

  it.each([
    ['a provider of another issuer', 'arn:aws:iam::111122223333:oidc-provider/gitlab.com'],
    ['a role ARN', 'arn:aws:iam::111122223333:role/github'],
    ['a short account', 'arn:aws:iam::1111:oidc-provider/token.actions.githubusercontent.com'],
  ])('when githubOidcProviderArn is %s, then the config is rejected naming the field', (_case, arn) => {
    // Act
    const problems = problemsOf({ ...deployConfig, source: { ...githubSource, pullRequestDiffRole: true, githubOidcProviderArn: arn } });

    // Assert
    expect(problems).toEqual([expect.stringMatching(/^source\.githubOidcProviderArn: must be the ARN of the account's GitHub OIDC provider/)]);
  });

  it('when githubOidcProviderArn is set with the diff role off, then the config is rejected naming the field and what to do', () => {
    // Act
    const problems = problemsOf({ ...deployConfig, source: { ...githubSource, githubOidcProviderArn: providerArn } });

    // Assert
    expect(problems).toEqual(['source.githubOidcProviderArn: is used only with pullRequestDiffRole: true; set that too, or remove this field']);
  });

  it('when pullRequestDiffRole is not a boolean, then the config is rejected naming the field', () => {
    // Act
    const problems = problemsOf({ ...deployConfig, source: { ...githubSource, pullRequestDiffRole: 'yes' } });

    // Assert
    expect(problems).toEqual([expect.stringMatching(/^source\.pullRequestDiffRole: /)]);
  });

  it('when a CodeCommit source leaves pullRequestChecks out, then pull requests are checked; false turns the check off', () => {
    // Act
    const on = parseDeployConfig({ ...deployConfig, source: { kind: 'codecommit', repositoryName: 'your-repo' } });
    const off = parseDeployConfig({ ...deployConfig, source: { kind: 'codecommit', repositoryName: 'your-repo', pullRequestChecks: false } });

    // Assert
    expect(on.source).toMatchObject({ pullRequestChecks: true });
    expect(off.source).toMatchObject({ pullRequestChecks: false });
  });

  it("when a field of one source kind is given to the other, then the config is rejected naming it", () => {
    // Act
    const onCodeCommit = problemsOf({ ...deployConfig, source: { kind: 'codecommit', repositoryName: 'your-repo', pullRequestDiffRole: true } });
    const onGithub = problemsOf({ ...deployConfig, source: { ...githubSource, pullRequestChecks: true } });

    // Assert
    expect(onCodeCommit.join('\n')).toMatch(/pullRequestDiffRole/);
    expect(onGithub.join('\n')).toMatch(/pullRequestChecks/);
  });
});
