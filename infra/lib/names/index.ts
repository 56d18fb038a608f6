import { keyToParameterName, SERVICE_NAME } from '@conveyor/config';

const buildProject = SERVICE_NAME;
const junitReportKey = 'junit';

/**
 * Every AWS name the infra chooses, derived from the service's name (from
 * packages/config/src/contract.ts) and the environment's. Forking means
 * renaming the service there; nothing here repeats it.
 */
export const names = {
  /** CloudFormation stack names: `cdk deploy conveyor-api-staging`. */
  foundationStack: `${SERVICE_NAME}-foundation`,
  pipelineStack: `${SERVICE_NAME}-pipeline`,
  environmentStack: (environment: string): string => `${SERVICE_NAME}-${environment}`,

  /** The CodeDeploy application, the pipeline and the CodeBuild project share the service's name. */
  codeDeployApplication: SERVICE_NAME,
  pipeline: SERVICE_NAME,
  buildProject,
  /**
   * A buildspec `reports:` key that is a plain name (`junit`) makes CodeBuild use the report group
   * named `<project>-<key>`, creating it if missing. The stack creates it under that name first, so
   * the group is stack-owned (retention, removal) and the buildspec stays account-independent.
   */
  junitReportKey,
  junitReportGroup: `${buildProject}-${junitReportKey}`,
  deploymentGroup: (environment: string): string => `${SERVICE_NAME}-${environment}`,
  /**
   * A blue/green environment's first Auto Scaling group, and the value of the fleet tag on it.
   * CodeDeploy names its copies `CodeDeploy_<deployment group>_<deployment id>`.
   */
  fleet: (environment: string): string => `${SERVICE_NAME}-${environment}-fleet`,
  /** The tag key that marks every Auto Scaling group (and instance) of a blue/green fleet. */
  fleetTagKey: `${SERVICE_NAME}:fleet`,
  alarm: (environment: string, what: string): string => `${SERVICE_NAME}-${environment}-${what}`,

  /** CloudWatch: the log group of one shipped file (`service`, `cloud-init`, ...), the agent's metric namespace, the saved queries, the dashboard. */
  logGroup: (environment: string, what: string): string => `/${SERVICE_NAME}/${environment}/${what}`,
  metricsNamespace: (environment: string): string => `${SERVICE_NAME}/${environment}`,
  insightsQuery: (environment: string, what: string): string => `${SERVICE_NAME}/${environment}/${what}`,
  dashboard: (environment: string): string => `${SERVICE_NAME}-${environment}`,

  /** Parameter Store path the service reads at boot (`CONFIG_SSM_PATH`). */
  parameterPath: (environment: string): string => `/${SERVICE_NAME}/${environment}/`,
  /** The parameter a config key is stored under; the service's loader maps it back to the key. */
  parameterName: (environment: string, key: string): string => keyToParameterName(names.parameterPath(environment), key),

  // On-instance paths (install root, env file, log dir) are not AWS names: the service contract
  // in @conveyor/config owns them (INSTALL_ROOT, INSTANCE_ENV_FILE, LOG_DIR), since the hooks,
  // appspec.yml and the service read them too.
} as const;

export { SERVICE_NAME };
