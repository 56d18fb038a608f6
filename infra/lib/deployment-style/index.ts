// Which deployment style an environment gets. Its own folder, so that both
// styles (../deployment's in-place, ../blue-green) depend on the seam they
// share (../deployment/types) and neither folder imports the other.
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

import type { BlueGreenSettings, DeploymentStyle } from '../../config/schema';
import { BlueGreenServerDeployment } from '../blue-green';
import { InPlaceDeployment, type EnvironmentDeploymentProps, type IEnvironmentDeployment } from '../deployment';

/** How an environment's releases reach it, from its deploy config entry. */
export interface DeploymentSettings {
  /** 'in-place' or 'blue-green'. */
  readonly style: DeploymentStyle;
  /** Used by 'blue-green' only. */
  readonly blueGreen: BlueGreenSettings;
  /** The blue/green fleet's first Auto Scaling group (names.fleet). */
  readonly fleetName: string;
  /** The tag that marks every group of a blue/green fleet (names.fleetTagKey). */
  readonly fleetTagKey: string;
  /**
   * The deploy config's removalPolicy, for what a deployment style keeps after `cdk destroy` (blue/green: its log groups).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Builds the deployment style an environment asked for. */
export function createEnvironmentDeployment(
  scope: Construct,
  id: string,
  settings: DeploymentSettings,
  props: EnvironmentDeploymentProps,
): IEnvironmentDeployment {
  const { style } = settings;
  switch (style) {
    case 'in-place':
      return new InPlaceDeployment(scope, id, props);
    case 'blue-green':
      return new BlueGreenServerDeployment(scope, id, {
        ...props,
        fleetName: settings.fleetName,
        fleetTagKey: settings.fleetTagKey,
        terminationWait: Duration.minutes(settings.blueGreen.terminationWaitMinutes),
        ...(settings.removalPolicy === undefined ? {} : { removalPolicy: settings.removalPolicy }),
      });
    default: {
      const unknown: never = style;
      throw new Error(`Unknown deployment style: ${String(unknown)}`);
    }
  }
}

