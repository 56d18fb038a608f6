import type { DeployTarget } from '..';
import { planDeployStages } from '..';

function targets(...names: string[]): DeployTarget[] {
  // The plan only reads the names; the constructs are not needed to order stages.
  return names.map((environmentName) => ({ environmentName }) as DeployTarget);
}

describe('planDeployStages', () => {
  it('when there are several environments, then each deploys in order and the approval stands right before the last', () => {
    // Act
    const stages = planDeployStages(targets('dev', 'staging', 'prod'));

    // Assert
    expect(stages.map((stage) => stage.name)).toEqual(['Deploy-dev', 'Deploy-staging', 'Approve-prod', 'Deploy-prod']);
  });

  it('when environments are deployed, then each but production is followed by an acceptance check', () => {
    // Act
    const stages = planDeployStages(targets('dev', 'staging', 'prod'));

    // Assert
    expect(stages.flatMap((stage) => (stage.kind === 'deploy' ? [[stage.name, stage.acceptance]] : []))).toEqual([
      ['Deploy-dev', true],
      ['Deploy-staging', true],
      ['Deploy-prod', false],
    ]);
  });

  it('when there is one environment, then the pipeline approves and deploys it', () => {
    // Act
    const stages = planDeployStages(targets('prod'));

    // Assert
    expect(stages.map((stage) => [stage.kind, stage.name])).toEqual([
      ['approve', 'Approve-prod'],
      ['deploy', 'Deploy-prod'],
    ]);
  });

  it('when there is no environment, then planning fails', () => {
    // Act
    const act = (): unknown => planDeployStages([]);

    // Assert
    expect(act).toThrow(/at least one environment/);
  });
});
