import { LOG_DIR } from '@conveyor/config';

import { AGENT_RUBY_PACKAGE, instanceBootstrapCommands, SERVICE_USER } from '../user-data';
import { AGENT_INSTALLER_RUBY_VERSIONS } from './fixtures/codedeploy-agent-installer';

const render = (environmentName: string, region: string) =>
  instanceBootstrapCommands({ environmentName, region, parameterPath: `/svc/${environmentName}/` }).join('\n');

describe('instanceBootstrapCommands: the CodeDeploy agent\'s Ruby', () => {
  it('when rendered, then it installs a versioned Ruby package whose version the agent\'s installer accepts', () => {
    // Arrange
    const script = render('staging', 'eu-west-1');
    const dnf = script.split('\n').find((line) => line.startsWith('dnf install'));

    // Act
    const version = /^ruby(\d+\.\d+)$/.exec(AGENT_RUBY_PACKAGE)?.[1];

    // Assert
    expect(version).toBeDefined();
    expect(AGENT_INSTALLER_RUBY_VERSIONS).toContain(version);
    expect(dnf?.split(' ')).toContain(AGENT_RUBY_PACKAGE);
    // Amazon Linux 2023's unversioned `ruby` may be a version the installer refuses.
    expect(dnf?.split(' ')).not.toContain('ruby');
  });
});

describe('instanceBootstrapCommands: what the service user may write', () => {
  it.each([
    ['dev', 'us-east-1'],
    ['staging', 'eu-west-1'],
    ['prod', 'ap-southeast-2'],
  ])('when rendered for %s in %s, then the install root is root\'s and only the log directory is the service user\'s', (environment, region) => {
    // Act
    const script = render(environment, region);
    const created = script.split('\n').filter((line) => line.startsWith('install -d'));

    // Assert
    expect(created).toContain('install -d -o root -g root -m 0755 /opt/conveyor-api');
    expect(created).toContain(`install -d -o ${SERVICE_USER} -g ${SERVICE_USER} -m 0750 ${LOG_DIR}`);
    expect(created.filter((line) => line.includes(`-o ${SERVICE_USER}`))).toEqual([`install -d -o ${SERVICE_USER} -g ${SERVICE_USER} -m 0750 ${LOG_DIR}`]);
    expect(script).not.toMatch(/chown[^\n]*\/opt\//);
  });

  it('when rendered, then logrotate is installed with the distribution\'s packages', () => {
    // Act
    const dnf = render('staging', 'eu-west-1').split('\n').find((line) => line.startsWith('dnf install'));

    // Assert
    expect(dnf?.split(' ')).toContain('logrotate');
  });
});
