import { Stack, type StackProps } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type { Construct } from 'constructs';

import { names, SERVICE_NAME } from '../names';

/**
 * What every environment builds on, deployed first: the CodeDeploy
 * application each environment's deployment group belongs to (one
 * application, one deployment group per environment).
 *
 * References between the stacks only go one way:
 * foundation <- environments <- pipeline.
 */
export class FoundationStack extends Stack {
  readonly application: codedeploy.ServerApplication;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, { description: `${SERVICE_NAME}: the CodeDeploy application shared by every environment`, ...props });
    this.application = new codedeploy.ServerApplication(this, 'Application', {
      applicationName: names.codeDeployApplication,
    });
  }
}
