import { RemovalPolicy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';

import { LOG_GROUP_ENV } from '../handler/log-group';
import { fleetTestStack, type FleetTestStack } from './test-stack';

describe("the construct's logs", () => {
  let destroy: FleetTestStack;

  beforeAll(() => {
    destroy = fleetTestStack({ removalPolicy: RemovalPolicy.DESTROY });
  });

  it.each([
    [RemovalPolicy.DESTROY, 'Delete'],
    [RemovalPolicy.RETAIN, 'Retain'],
  ])('when the removal policy is %s, then all three log groups get DeletionPolicy %s', (removalPolicy, expected) => {
    // Arrange
    const { template } = removalPolicy === RemovalPolicy.DESTROY ? destroy : fleetTestStack({ removalPolicy });

    // Assert
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup')) as { DeletionPolicy?: string }[];
    expect(groups).toHaveLength(3);
    expect(groups.map((group) => group.DeletionPolicy)).toEqual([expected, expected, expected]);
  });

  it("when the Provider framework's functions log, then their application log level keeps INFO lines", () => {
    // Assert
    const framework = destroy.template.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp('^AWS CDK resource provider framework') },
    });
    expect(Object.keys(framework).length).toBeGreaterThan(0);
    for (const fn of Object.values(framework) as { Properties: { LoggingConfig?: { ApplicationLogLevel?: string } } }[]) {
      expect(fn.Properties.LoggingConfig?.ApplicationLogLevel).toBe('INFO');
    }
  });

  it('when the handler fails, then its reason can name its log group: the function is told which one it writes to', () => {
    // Arrange
    const { template } = destroy;
    const handlerLogs = Object.keys(template.findResources('AWS::Logs::LogGroup')).find((id) => id.includes('HandlerLogs'));

    // Assert
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.onEvent',
      Environment: { Variables: { [LOG_GROUP_ENV]: { Ref: handlerLogs } } },
      LoggingConfig: { LogGroup: { Ref: handlerLogs } },
    });
  });
});
