import { RemovalPolicy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';

import { VENDED_LOG_DELIVERY_ACTIONS } from '..';
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

  it('when the handler logs, then both entry points use JSON at level INFO, so each log call stays one structured object', () => {
    // Assert
    for (const handler of ['index.onEvent', 'index.isComplete']) {
      destroy.template.hasResourceProperties('AWS::Lambda::Function', {
        Handler: handler,
        LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO' },
      });
    }
  });
});

describe("the waiter state machine's log permissions", () => {
  it('when the waiter logs through vended delivery, then its role gets the documented delivery actions and no CreateLogStream/PutLogEvents on "*"', () => {
    // Arrange
    const { template } = fleetTestStack();
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => (policy as { Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } } }).Properties.PolicyDocument.Statement,
    );

    // Assert
    const delivery = statements.filter((st) => [st.Action].flat().includes('logs:CreateLogDelivery'));
    expect(delivery).toHaveLength(1);
    expect([delivery[0]!.Action].flat().sort()).toEqual([...VENDED_LOG_DELIVERY_ACTIONS].sort());
    const wildcardWrites = statements.filter((st) => st.Resource === '*' && [st.Action].flat().some((a) => a === 'logs:PutLogEvents' || a === 'logs:CreateLogStream'));
    expect(wildcardWrites).toEqual([]);
  });
});
