import { INSTALL_ROOT, INSTANCE_ENV_FILE, LOG_DIR, SERVICE_NAME } from '@conveyor/config';

/**
 * The Node.js major the instances run. It must match the `nodejs:` runtime in
 * buildspec.yml: the bundle's production dependencies are installed in
 * CodeBuild and shipped as they are.
 *
 * Amazon Linux 2023 packages each supported Node.js major under its own name
 * (`nodejs20`, `nodejs22`, `nodejs24`), with namespaced binaries (`node-22`)
 * and `node` chosen through `alternatives`:
 * https://docs.aws.amazon.com/linux/al2023/ug/nodejs.html
 */
export const NODE_MAJOR = 22;

/**
 * The Ruby package the CodeDeploy agent runs on. Amazon Linux 2023 names Ruby
 * by version (`ruby3.2`, `ruby3.4`); the agent's installer accepts only the
 * versions it lists (aws/aws-codedeploy-agent, bin/install,
 * `supported_ruby_versions`), and 3.4 is not among them.
 */
export const AGENT_RUBY_PACKAGE = 'ruby3.2';

/** The user the service runs as: not root, with a home directory because pm2 keeps its state in $HOME/.pm2. */
export const SERVICE_USER = 'app';

export interface InstanceBootstrapOptions {
  /** The environment name, written as APP_ENV. */
  readonly environmentName: string;
  /** The region, written as AWS_REGION and used to pick the regional CodeDeploy agent bucket. */
  readonly region: string;
  /** The Parameter Store path, written as CONFIG_SSM_PATH (ends with a slash). */
  readonly parameterPath: string;
  /**
   * The CloudWatch agent's configuration (see ../observability): installed
   * from the distribution's `amazon-cloudwatch-agent` package, written to
   * {@link CLOUDWATCH_AGENT_CONFIG_FILE} and started with it.
   * @default - no CloudWatch agent
   */
  readonly cloudWatchAgentConfig?: Readonly<Record<string, unknown>>;
}

/** Where the user data writes the CloudWatch agent's configuration; `fetch-config` reads it from there. */
export const CLOUDWATCH_AGENT_CONFIG_FILE = `/opt/aws/amazon-cloudwatch-agent/etc/${SERVICE_NAME}.json`;
const CLOUDWATCH_AGENT_CTL = '/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl';

/**
 * The CloudWatch agent, configured by the stack: the configuration is part of
 * the launch template, so every instance of every Auto Scaling group made
 * from it (blue/green copies included) ships the same files, and a change
 * replaces instances like any launch template change. It needs no API call
 * and no permission to read its configuration.
 */
function cloudWatchAgentCommands(config: Readonly<Record<string, unknown>>): string[] {
  return [
    'dnf install -y amazon-cloudwatch-agent',
    `install -d -o root -g root -m 0755 ${CLOUDWATCH_AGENT_CONFIG_FILE.slice(0, CLOUDWATCH_AGENT_CONFIG_FILE.lastIndexOf('/'))}`,
    `cat > ${CLOUDWATCH_AGENT_CONFIG_FILE} <<'CWAGENTCONFIG'`,
    JSON.stringify(config, null, 2),
    'CWAGENTCONFIG',
    `chmod 0644 ${CLOUDWATCH_AGENT_CONFIG_FILE}`,
    // fetch-config translates the file into the agent's own format; -s (re)starts it under systemd,
    // which also starts it at every boot from then on.
    `${CLOUDWATCH_AGENT_CTL} -a fetch-config -m ec2 -s -c file:${CLOUDWATCH_AGENT_CONFIG_FILE}`,
  ];
}

/**
 * The commands every instance runs once at first boot (cloud-init, as root).
 * They prepare the machine; the service itself arrives with the first
 * CodeDeploy deployment. Re-running them is harmless.
 */
export function instanceBootstrapCommands(options: InstanceBootstrapOptions): string[] {
  const envDir = INSTANCE_ENV_FILE.slice(0, INSTANCE_ENV_FILE.lastIndexOf('/'));
  const agentInstaller = `https://aws-codedeploy-${options.region}.s3.${options.region}.amazonaws.com/latest/install`;
  return [
    'set -euo pipefail',
    `echo "[${SERVICE_NAME}] bootstrap start"`,

    // Node.js LTS from the distribution (see NODE_MAJOR), Ruby for the CodeDeploy agent
    // (see AGENT_RUBY_PACKAGE), and logrotate, which rotates the service's log directory
    // (the AfterInstall hook writes its config, from the bundle's own LOG_DIR).
    `dnf install -y nodejs${NODE_MAJOR} ${AGENT_RUBY_PACKAGE} logrotate`,
    `alternatives --set node /usr/bin/node-${NODE_MAJOR}`,

    // The service user: a system account whose password is locked. It may write only its
    // log directory and pm2's home (in its own home directory); the install root is root's
    // and read-only to it, so nothing it writes is ever run by root
    // (docs/decisions/0003-service-user-writes-only-logs-and-pm2-home.md).
    `id -u ${SERVICE_USER} >/dev/null 2>&1 || useradd --system --create-home --home-dir /home/${SERVICE_USER} --shell /bin/bash ${SERVICE_USER}`,
    `install -d -o root -g root -m 0755 ${INSTALL_ROOT}`,
    `install -d -o ${SERVICE_USER} -g ${SERVICE_USER} -m 0750 ${LOG_DIR}`,

    // What differs per environment and region. The hook scripts source this file and pass it to the service.
    `install -d -o root -g root -m 0755 ${envDir}`,
    `cat > ${INSTANCE_ENV_FILE} <<'ENVFILE'`,
    `APP_ENV=${options.environmentName}`,
    `AWS_REGION=${options.region}`,
    `CONFIG_SSM_PATH=${options.parameterPath}`,
    'ENVFILE',
    `chmod 0644 ${INSTANCE_ENV_FILE}`,

    // Logs and metrics leave the instance before the first deployment can start, so its hook output is shipped too.
    ...(options.cloudWatchAgentConfig === undefined ? [] : cloudWatchAgentCommands(options.cloudWatchAgentConfig)),

    // The CodeDeploy agent goes last: once it runs, a deployment may start, and AWS
    // requires every other bootstrap step to be finished by then.
    'cd /tmp',
    `curl --fail --silent --show-error --location --retry 5 --output codedeploy-install ${agentInstaller}`,
    'chmod +x codedeploy-install',
    // The installer takes the region from AWS_REGION before trying instance metadata
    // (with IMDSv1, which this launch template disables; it would fall back to us-east-1).
    `AWS_REGION=${options.region} ./codedeploy-install auto`,
    'systemctl enable --now codedeploy-agent',
    `echo "[${SERVICE_NAME}] bootstrap done"`,
  ];
}
