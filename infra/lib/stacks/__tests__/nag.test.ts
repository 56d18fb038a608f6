import { Validations, type App } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

import type { DeployConfig } from '../../../config/schema';
import { createTestApp, shippedEnvironment, testConfig } from '../../../test-support';
import { createStacks } from '..';

/** Every acknowledgement recorded in the tree: rule id, reason, and where. */
function acknowledgementsIn(root: IConstruct): { id: string; reason: string; path: string }[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
      .map(([id, reason]) => ({ id, reason, path: construct.node.path })),
  );
}

/** Synthesizes like `cdk synth` does: cdk.json context, CloudFormation validation, cdk-nag AwsSolutions. */
function synthWithChecks(config: DeployConfig): App {
  const app = createTestApp({ cloudFormationValidation: true });
  createStacks(app, config);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
  return app;
}

const staging = shippedEnvironment('staging');
const prod = shippedEnvironment('prod');
const certificateArn = 'arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012';

describe('cdk-nag AwsSolutions and CloudFormation validation, over every stack', () => {
  it.each([
    ['the example config (GitHub, staging then prod)', testConfig()],
    ['a created CodeCommit repository', testConfig({ source: { kind: 'codecommit', repositoryName: 'your-repo', create: true } })],
    [
      'one HTTPS environment with retained data and email subscribers',
      testConfig({
        environments: [{ ...prod, certificateArn, natGateways: 2 }],
        removalPolicy: 'retain',
        notificationEmails: ['ops@example.com'],
      }),
    ],
    ['three environments', testConfig({ environments: [{ ...staging, name: 'dev' }, staging, prod] })],
  ])('when the app is synthesized with %s, then no finding is left unacknowledged', (_case, config) => {
    // Act (synthesis throws with the validation report when any finding is left)
    const app = synthWithChecks(config);

    // Assert
    expect(app.node.findAll().length).toBeGreaterThan(0);
  });

  it('when a stack has a finding nobody acknowledged, then synthesis fails and names the rule (the check above is live)', () => {
    // Arrange
    const app = createTestApp();
    const { environments } = createStacks(app, testConfig({ environments: [prod] }));
    const stack = environments[0]!;
    const openToTheWorld = new ec2.SecurityGroup(stack, 'Unreviewed', { vpc: stack.vpc, description: 'SSH from anywhere' });
    openToTheWorld.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22));
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

    // Act
    const act = (): unknown => app.synth();

    // Assert
    expect(act).toThrow(/AwsSolutions-EC23/);
  });

  it('when a finding is acknowledged, then the acknowledgement carries a specific reason', () => {
    // Arrange
    const app = createTestApp();
    createStacks(app, testConfig());

    // Act
    const acknowledgements = acknowledgementsIn(app);

    // Assert
    expect(acknowledgements.length).toBeGreaterThan(0);
    const vague = acknowledgements.filter(({ reason }) => reason.length < 60 || /^(n\/a|ok|fine|todo|suppress)/i.test(reason));
    expect(vague).toEqual([]);
  });
});
