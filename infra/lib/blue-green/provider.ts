import { createRequire } from 'node:module';
import * as path from 'node:path';

import { Duration, Lazy, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';

import { LOG_GROUP_ENV } from './handler/log-group';
import { acknowledge, wildcardResourceFinding } from '../nag';

/** How long a stack deletion waits for the fleet's Auto Scaling groups (and instances) to be gone. */
const DELETE_TIMEOUT = Duration.minutes(30);

export interface FleetProviderProps {
  /** The deployment group whose fleet the handler owns; named in the functions' and role's descriptions. */
  readonly deploymentGroupName: string;
  /**
   * What the handler may do on AWS (its deployment group, the fleet's Auto
   * Scaling groups, passing CodeDeploy's service role); they become the
   * handler role's `HandlerPolicy`.
   */
  readonly handlerStatements: iam.PolicyStatement[];
  /** What `cdk destroy` does with the handler's, the framework's and the waiter's log groups. */
  readonly removalPolicy: RemovalPolicy;
}

/** What {@link addFleetProvider} defined. */
export interface FleetProvider {
  /** The custom resource's Lambda function (onEvent; isComplete shares its code and role). */
  readonly handler: nodejs.NodejsFunction;
  /** The waiter's function: is the fleet gone after a delete? */
  readonly isCompleteHandler: nodejs.NodejsFunction;
  readonly handlerRole: iam.Role;
  /** The handler's AWS permissions, a separate resource the custom resource waits for (and outlives on delete). */
  readonly handlerPolicy: iam.Policy;
  /** The log group both entry points write to. */
  readonly handlerLogs: logs.LogGroup;
  /** CDK's Provider framework; its service token is the custom resource's. */
  readonly provider: cr.Provider;
}

/**
 * The provider side of the blue/green custom resource: the handler's two entry
 * points (onEvent, isComplete) with their role, policy and log group, and CDK's
 * Provider framework with its waiter state machine and their logs, one set per
 * BlueGreenServerDeployment. They are defined directly in `scope` (that
 * construct), not in a child construct: their logical ids, and the construct
 * path the Provider framework writes into its functions' descriptions, stay
 * what they were when the deployment construct defined them inline.
 *
 * Also acknowledges the cdk-nag findings of these resources, except those of
 * the handler's AWS permissions (`scope` knows why each of those is needed).
 */
export function addFleetProvider(scope: Construct, props: FleetProviderProps): FleetProvider {
  const { deploymentGroupName, removalPolicy } = props;

  const handlerLogs = new logs.LogGroup(scope, 'HandlerLogs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy });
  const handlerRole = new iam.Role(scope, 'HandlerRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Custom resource owning the blue/green fleet and deployment group ${deploymentGroupName}`,
  });
  handlerLogs.grantWrite(handlerRole);
  const handlerPolicy = new iam.Policy(scope, 'HandlerPolicy', { roles: [handlerRole], statements: props.handlerStatements });

  // Both entry points: one bundle, one role, one log group.
  const entryPoint = (
    id: string,
    handler: 'onEvent' | 'isComplete',
    options: Pick<nodejs.NodejsFunctionProps, 'timeout' | 'environment' | 'description'>,
  ): nodejs.NodejsFunction =>
    new nodejs.NodejsFunction(scope, id, {
      entry: path.join(__dirname, 'handler', 'index.ts'),
      handler,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      role: handlerRole,
      logGroup: handlerLogs,
      // Each console call becomes one JSON object whose `message` is the handler's own
      // object (handler/log.ts), so Logs Insights can filter on its fields.
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      memorySize: 256,
      ...options,
      bundling: offlineBundling(scope),
    });
  const onEventHandler = entryPoint('Handler', 'onEvent', {
    // Well above the handler's own waits: up to 3 minutes of IAM-propagation and throttling
    // retries per event (handler/fleet-api.ts RETRY_BUDGET_MS), plus up to 75 s per busy group on Delete.
    timeout: Duration.minutes(10),
    environment: { [LOG_GROUP_ENV]: handlerLogs.logGroupName },
    description: `Owns the blue/green fleet and deployment group ${deploymentGroupName}`,
  });
  const isCompleteHandler = entryPoint('IsCompleteHandler', 'isComplete', {
    timeout: Duration.minutes(1),
    description: `Waits until the blue/green fleet of ${deploymentGroupName} is gone after a delete`,
  });

  // The framework's own functions get roles that write only to their log group (not the managed
  // basic execution role), and its waiter state machine logs every event, without the payloads.
  const providerLogs = new logs.LogGroup(scope, 'ProviderLogs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy });
  const [frameworkOnEventRole, frameworkCompleteAndTimeoutRole] = ['FrameworkOnEventRole', 'FrameworkWaiterRole'].map((roleId) => {
    const role = new iam.Role(scope, roleId, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    providerLogs.grantWrite(role);
    return role;
  }) as [iam.Role, iam.Role];
  const provider = new cr.Provider(scope, 'Provider', {
    onEventHandler,
    isCompleteHandler,
    queryInterval: Duration.seconds(30),
    totalTimeout: DELETE_TIMEOUT,
    logGroup: providerLogs,
    // The framework's default (FATAL) drops every line it logs: the events, the handler's answers, the responses.
    frameworkLambdaLoggingLevel: lambda.ApplicationLogLevel.INFO,
    frameworkOnEventRole,
    frameworkCompleteAndTimeoutRole,
    disableWaiterStateMachineLogging: false,
    waiterStateMachineLogOptions: {
      destination: new logs.LogGroup(scope, 'WaiterLogs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy }),
      level: sfn.LogLevel.ALL,
      includeExecutionData: false,
    },
  });

  restrictWaiterLogPermissions(provider);

  const fleetProvider = { handler: onEventHandler, isCompleteHandler, handlerRole, handlerPolicy, handlerLogs, provider };
  acknowledgeFindings(scope, fleetProvider);
  return fleetProvider;
}

function acknowledgeFindings(scope: Construct, { handler, isCompleteHandler, handlerRole, handlerLogs, provider }: FleetProvider): void {
  const resource = (value: string): string => wildcardResourceFinding(scope, value);
  acknowledge(
    handlerRole,
    'CDK grants the handler CreateLogStream/PutLogEvents on its own log group, whose streams are named by Lambda at run time.',
    resource(`${handlerLogs.logGroupArn}:*`),
  );
  const invokedFunctions = [handler, isCompleteHandler, ...['framework-isComplete', 'framework-onTimeout'].map((id) => provider.node.findChild(id) as lambda.Function)];
  acknowledge(
    scope,
    "The CDK Provider framework's functions and waiter state machine may invoke every version of the functions they call " +
      '("<function ARN>:*", as CDK grants invoke); each grant names one function of this construct.',
    ...invokedFunctions.map((fn) => resource(`${fn.functionArn}:*`)),
  );
  acknowledge(
    provider,
    "The Provider framework's waiter state machine delivers its logs through CloudWatch Logs' vended log delivery; the " +
      "actions Step Functions documents for it (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, " +
      'ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) support no resource-level permissions. ' +
      'CDK also grants CreateLogStream and PutLogEvents on "*", which vended delivery does not use; the construct removes them. X-Ray tracing is not offered by the ' +
      'Provider framework, and the state machine only polls isComplete every 30 s during a delete; its events are logged.',
    resource('*'),
    'AwsSolutions-SF2',
  );
  for (const fn of [handler, isCompleteHandler]) {
    acknowledge(
      fn,
      'Node.js 22 on purpose: the runtime the service, CodeBuild and the handler tests use; AWS SDK v3 requires Node.js 22 or later. Move with them.',
      'AwsSolutions-L1',
    );
  }
}

/**
 * The actions Step Functions documents for logging to CloudWatch Logs (vended
 * log delivery); none of them supports resource-level permissions.
 * https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy
 */
export const VENDED_LOG_DELIVERY_ACTIONS = [
  'logs:CreateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:DescribeLogGroups',
  'logs:DescribeResourcePolicies',
  'logs:GetLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:UpdateLogDelivery',
] as const;

/**
 * CDK's Provider grants its waiter state machine's role the vended-delivery
 * actions plus logs:CreateLogStream and logs:PutLogEvents, all on "*". The
 * state machine writes only through vended delivery, so the statement is
 * replaced by the documented actions alone. A CDK version that changes the
 * statement fails synth here rather than granting silently.
 */
function restrictWaiterLogPermissions(provider: cr.Provider): void {
  const policy = provider.node.findChild('waiter-state-machine').node.findChild('Role').node.findChild('DefaultPolicy') as iam.Policy;
  type Statement = { Action: string | string[] };
  // Computed at synth from the document CDK renders (statement order and merging are CDK's).
  (policy.node.defaultChild as iam.CfnPolicy).addPropertyOverride(
    'PolicyDocument.Statement',
    Lazy.any({
      produce: () => {
        const { Statement: statements } = Stack.of(policy).resolve(policy.document) as { Statement: Statement[] };
        const expected = [...VENDED_LOG_DELIVERY_ACTIONS, 'logs:CreateLogStream', 'logs:PutLogEvents'].sort();
        const delivery = statements.filter((st) => [st.Action].flat().includes('logs:CreateLogDelivery'));
        if (delivery.length !== 1 || JSON.stringify([delivery[0]!.Action].flat().sort()) !== JSON.stringify(expected)) {
          throw new Error(`${provider.node.path}: the Provider's waiter log statement changed; review restrictWaiterLogPermissions`);
        }
        return statements.map((st) => (st === delivery[0] ? { ...st, Action: [...VENDED_LOG_DELIVERY_ACTIONS] } : st));
      },
    }),
  );
}

/**
 * Bundles the handler with the esbuild installed as a dev dependency, never in
 * Docker: synth must work offline and on machines without a Docker engine.
 * NodejsFunction falls back to building a Docker image when it finds no local
 * esbuild, so a missing one stops synth here with the fix instead.
 * The SDK clients are bundled in, so the handler runs the versions its tests ran.
 */
function offlineBundling(scope: Construct): nodejs.BundlingOptions {
  try {
    createRequire(__filename).resolve('esbuild');
  } catch {
    throw new Error(
      `${scope.node.path}: esbuild is not installed. The blue/green handler is bundled locally, never in Docker: run \`npm ci\` at the repository root.`,
    );
  }
  return {
    forceDockerBundling: false,
    bundleAwsSDK: true,
    minify: true,
    target: 'node22',
  };
}
