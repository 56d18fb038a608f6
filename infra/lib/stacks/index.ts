import { Annotations, DefaultStackSynthesizer, RemovalPolicy, Tags, type App } from 'aws-cdk-lib';

import { PLACEHOLDER_CONNECTION_ARN, type DeployConfig } from '../../config/schema';
import { names, SERVICE_NAME } from '../names';
import { EnvironmentStack } from './environment-stack';
import { FoundationStack } from './foundation-stack';
import { PipelineStack } from './pipeline-stack';

export { EnvironmentStack, type EnvironmentStackProps } from './environment-stack';
export { FoundationStack } from './foundation-stack';
export { PipelineStack, type PipelineStackProps } from './pipeline-stack';

/** The stacks of one deployment of the service, in deployment order. */
export interface ServiceStacks {
  /** The CodeDeploy application; deployed first. */
  readonly foundation: FoundationStack;
  /** In the config's order; the last is production. */
  readonly environments: readonly EnvironmentStack[];
  /** The delivery pipeline and its artifact store; deployed last. */
  readonly pipeline: PipelineStack;
}

/**
 * Adds every stack the deploy config describes to `app`. Stack ids equal the
 * CloudFormation stack names, so `cdk deploy <service>-staging` works.
 *
 * Only the region is set on the stacks, never the account: with an account,
 * CDK would look the Availability Zones up at synth time, which needs AWS
 * credentials. The account is the one `cdk deploy` runs with.
 */
export function createStacks(app: App, config: DeployConfig): ServiceStacks {
  const env = { region: config.region };
  // Every stack names the bootstrap roles and bucket of this qualifier; the pipeline assumes the same roles.
  const synthesizer = (): DefaultStackSynthesizer => new DefaultStackSynthesizer({ qualifier: config.pipeline.bootstrapQualifier });
  const removalPolicy = config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
  Tags.of(app).add('service', SERVICE_NAME);

  const foundation = new FoundationStack(app, names.foundationStack, { env, synthesizer: synthesizer() });

  const environments = config.environments.map(
    (environment) =>
      new EnvironmentStack(app, names.environmentStack(environment.name), {
        env,
        synthesizer: synthesizer(),
        environment,
        application: foundation.application,
        notificationEmails: config.notificationEmails,
        removalPolicy,
      }),
  );

  const pipeline = new PipelineStack(app, names.pipelineStack, {
    env,
    synthesizer: synthesizer(),
    source: config.source,
    targets: environments.map((stack, index) => ({
      environmentName: stack.environmentName,
      deploymentGroup: stack.deployment.deploymentGroup,
      instanceRole: stack.fleet.role,
      stackName: stack.stackName,
      // With HTTPS, the name the certificate covers; the load balancer's own name fails TLS verification.
      serviceUrl: config.environments[index]?.domainName ? `https://${config.environments[index].domainName}` : stack.loadBalancer.url,
      // The alarms on the deployment group: blue/green leaves the unhealthy-hosts alarm off it
      // (in ALARM until the first release), so a stage condition on it would block that release too.
      rollbackAlarms:
        config.environments[index]?.deploymentStyle === 'blue-green'
          ? stack.alarms.alarms.filter((alarm) => alarm !== stack.alarms.unhealthyHosts)
          : stack.alarms.alarms,
    })),
    settings: config.pipeline,
    notificationEmails: config.notificationEmails,
    removalPolicy,
    appStackNames: [foundation.stackName, ...environments.map((stack) => stack.stackName), names.pipelineStack],
  });

  // The deploy actions name the CodeDeploy application (by name, see EnvironmentStack): it must exist first.
  pipeline.addStackDependency(foundation);

  if (config.source.kind === 'github' && config.source.connectionArn === PLACEHOLDER_CONNECTION_ARN) {
    Annotations.of(pipeline).addWarningV2(
      'deploy-config:placeholder-connection',
      'source.connectionArn in infra/config/deploy-config.ts is still the example value. Create a connection, approve it, ' +
        'and paste its ARN before deploying (infra/README.md, "Deploy to AWS").',
    );
  }
  return { foundation, environments, pipeline };
}
