/**
 * The rules a new scope and service name must follow, each stated with its
 * reason, so a refusal names the rule it breaks.
 */

/** The deploy config allows environment names of up to 32 characters (infra/config/schema.ts). */
export const LONGEST_ENVIRONMENT_NAME = 32;

/** The longest workspace name after the scope (`/local-pipeline`); npm limits the whole name. */
const LONGEST_WORKSPACE = 'local-pipeline';

const NPM_NAME_MAX = 214;
/** npm: lowercase, URL-safe, not starting with `.` or `_` (validate-npm-package-name). */
const NPM_SCOPE = /^@[a-z0-9-~][a-z0-9-._~]*$/;

/** The service's own SERVICE_NAME rule (packages/config), without the trailing or doubled dash AWS names read badly with. */
const SERVICE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Elastic Load Balancing: load balancer and target group names are at most 32 characters, the tightest AWS limit of a name the service lends. */
const SERVICE_MAX = 32;

interface DerivedName {
  readonly what: string;
  readonly name: (service: string, environment: string) => string;
  readonly max: number;
}

/**
 * The AWS names derived from the service name (infra/lib/names), each with its
 * limit, checked with the longest environment name the deploy config allows.
 */
const DERIVED_NAMES: readonly DerivedName[] = [
  { what: 'CloudFormation stack name', name: (s, e) => `${s}-${e}`, max: 128 },
  { what: 'CloudFormation stack name', name: (s) => `${s}-foundation`, max: 128 },
  { what: 'CodePipeline pipeline name', name: (s) => s, max: 100 },
  { what: 'CodeDeploy application name', name: (s) => s, max: 100 },
  { what: 'CodeDeploy deployment group name', name: (s, e) => `${s}-${e}`, max: 100 },
  { what: "Auto Scaling group name of CodeDeploy's blue/green copy", name: (s, e) => `CodeDeploy_${s}-${e}_d-XXXXXXXXX`, max: 255 },
  { what: 'CodeBuild report group name', name: (s) => `${s}-junit`, max: 128 },
  { what: 'CloudWatch alarm name', name: (s, e) => `${s}-${e}-unhealthy-hosts`, max: 255 },
  { what: 'tag key', name: (s) => `${s}:fleet`, max: 128 },
];

/** Every rule `scope` breaks, as a sentence naming the rule (empty when it is a valid npm scope). */
export function scopeProblems(scope: string): string[] {
  const problems: string[] = [];
  if (!scope.startsWith('@')) problems.push(`--scope ${JSON.stringify(scope)}: an npm scope starts with @ (e.g. @acme)`);
  else if (scope.length < 2) problems.push('--scope "@": an npm scope needs a name after the @');
  else if (!NPM_SCOPE.test(scope)) {
    problems.push(
      `--scope ${JSON.stringify(scope)}: npm scope names are lowercase letters, digits and - . _ ~, and do not start with . or _ (npm package name rules)`,
    );
  }
  const longest = `${scope}/${LONGEST_WORKSPACE}`;
  if (longest.length > NPM_NAME_MAX) {
    problems.push(`--scope: ${longest} would be ${longest.length} characters; npm package names are at most ${NPM_NAME_MAX}`);
  }
  return problems;
}

/** Every rule `service` breaks, as a sentence naming the rule (empty when every derived AWS name fits). */
export function serviceProblems(service: string): string[] {
  if (!SERVICE.test(service)) {
    return [
      `--service ${JSON.stringify(service)}: lowercase letters and digits in dash-separated words, starting with a letter ` +
        '(the SERVICE_NAME rule of packages/config; it becomes stack, pipeline, Parameter Store and path names)',
    ];
  }
  const problems: string[] = [];
  if (service.length > SERVICE_MAX) {
    problems.push(`--service: ${service.length} characters; at most ${SERVICE_MAX} (an Elastic Load Balancing name's limit, the tightest of the names the service lends)`);
  }
  const environment = 'e'.repeat(LONGEST_ENVIRONMENT_NAME);
  for (const derived of DERIVED_NAMES) {
    const name = derived.name(service, environment);
    if (name.length > derived.max) {
      problems.push(`--service: the ${derived.what} ${name} would be ${name.length} characters; AWS allows ${derived.max} (with a ${LONGEST_ENVIRONMENT_NAME}-character environment name)`);
    }
  }
  return problems;
}
