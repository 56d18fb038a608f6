import { instanceBootstrapCommands, NODE_MAJOR } from '../user-data';

describe('instanceBootstrapCommands', () => {
  const commands = instanceBootstrapCommands({
    environmentName: 'staging',
    region: 'eu-west-1',
    parameterPath: '/conveyor-api/staging/',
  });
  const script = commands.join('\n');

  it('when rendered, then the script stops at the first failing command', () => {
    // Assert
    expect(commands[0]).toBe('set -euo pipefail');
  });

  it('when rendered, then it installs the Node.js LTS package of Amazon Linux 2023 and makes it the default node', () => {
    // Assert
    expect(NODE_MAJOR).toBe(22);
    expect(script).toContain('dnf install -y nodejs22 ruby3.2 logrotate');
    expect(script).toContain('alternatives --set node /usr/bin/node-22');
  });

  it('when rendered, then it creates the non-root app user with a home directory, its log directory, and the install root as root\'s', () => {
    // Assert
    expect(script).toMatch(/useradd --system --create-home --home-dir \/home\/app .* app$/m);
    expect(script).toContain('install -d -o root -g root -m 0755 /opt/conveyor-api');
    expect(script).toContain('install -d -o app -g app -m 0750 /var/log/conveyor-api');
  });

  it('when rendered, then the instance env file holds exactly APP_ENV, AWS_REGION and CONFIG_SSM_PATH', () => {
    // Act
    const body = script.slice(script.indexOf("<<'ENVFILE'\n") + "<<'ENVFILE'\n".length, script.indexOf('\nENVFILE'));

    // Assert
    expect(script).toContain("cat > /etc/conveyor-api/instance.env <<'ENVFILE'");
    expect(body.split('\n')).toEqual(['APP_ENV=staging', 'AWS_REGION=eu-west-1', 'CONFIG_SSM_PATH=/conveyor-api/staging/']);
  });

  it('when rendered, then the CodeDeploy agent comes from the regional bucket and is installed last', () => {
    // Arrange
    const installer = 'https://aws-codedeploy-eu-west-1.s3.eu-west-1.amazonaws.com/latest/install';

    // Assert
    expect(script).toContain(installer);
    expect(script).toContain('AWS_REGION=eu-west-1 ./codedeploy-install auto');
    expect(script.indexOf('./codedeploy-install auto')).toBeGreaterThan(script.indexOf('CONFIG_SSM_PATH='));
    expect(script.indexOf('./codedeploy-install auto')).toBeGreaterThan(script.indexOf('useradd'));
  });
});
