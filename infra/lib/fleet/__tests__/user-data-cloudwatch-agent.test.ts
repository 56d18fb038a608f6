import { execFileSync } from 'node:child_process';

import { CLOUDWATCH_AGENT_CONFIG_FILE, instanceBootstrapCommands } from '../user-data';

const base = { environmentName: 'qa', region: 'eu-west-1', parameterPath: '/svc/qa/' };
const agentConfig = { metrics: { append_dimensions: { InstanceId: '${aws:InstanceId}' } }, logs: { note: "it's `$(not run)` $HOME" } };

describe('instanceBootstrapCommands: the CloudWatch agent', () => {
  it('when no agent configuration is given, then no CloudWatch agent is installed or started', () => {
    // Act
    const script = instanceBootstrapCommands(base).join('\n');

    // Assert
    expect(script).not.toContain('amazon-cloudwatch-agent');
  });

  it('when bash writes the configuration, then the file holds the JSON unchanged (placeholders, quotes and $ are not expanded)', () => {
    // Arrange: only the heredoc that writes the file, pointed at stdout
    const commands = instanceBootstrapCommands({ ...base, cloudWatchAgentConfig: agentConfig });
    const start = commands.findIndex((command) => command.startsWith(`cat > ${CLOUDWATCH_AGENT_CONFIG_FILE} <<`));
    const end = commands.indexOf('CWAGENTCONFIG', start + 1);
    const heredoc = [commands[start]!.replace(`cat > ${CLOUDWATCH_AGENT_CONFIG_FILE}`, 'cat'), ...commands.slice(start + 1, end + 1)].join('\n');

    // Act
    const written = execFileSync('bash', ['-euo', 'pipefail', '-c', heredoc], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });

    // Assert
    expect(start).toBeGreaterThan(-1);
    expect(JSON.parse(written)).toEqual(agentConfig);
  });

  it('when rendered, then the agent is started from that file after it is written, and before the CodeDeploy agent', () => {
    // Act
    const script = instanceBootstrapCommands({ ...base, cloudWatchAgentConfig: agentConfig }).join('\n');

    // Assert
    const written = script.indexOf('CWAGENTCONFIG\nchmod 0644');
    const started = script.indexOf(`amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:${CLOUDWATCH_AGENT_CONFIG_FILE}`);
    expect(written).toBeGreaterThan(-1);
    expect(started).toBeGreaterThan(written);
    expect(script.indexOf('codedeploy-install auto')).toBeGreaterThan(started);
  });
});
