/**
 * IAM checked, not assumed: evaluates AWS API calls against the IAM policies
 * of a synthesized app with a policy simulator, offline.
 *
 * This is the ONLY module that imports the simulator library
 * (@cloud-copilot/iam-simulate, AGPL-3.0, a test-only devDependency): to swap
 * it, reimplement `simulate` below; nothing else changes. See
 * docs/decisions/0002-iam-simulator.md.
 *
 * Three parts:
 * - `resolveApp(templates)`: turns synthesized CloudFormation templates into
 *   concrete policy documents (Ref, Fn::GetAtt, Fn::Join, Fn::Sub,
 *   Fn::Select, Fn::Split, Fn::GetStackOutput, Fn::ImportValue resolved for a
 *   fake account and the template's region) and collects a role's policies and
 *   the buckets' and keys' resource policies;
 * - `simulate(principal, request)`: one call, allowed or denied, with a reason;
 * - `expectAllowed` / `expectDenied`: jest helpers that report every wrong
 *   answer of a list in one failure message.
 */
import { allowedContextKeysForRequest, getDenialReasons, getGrantReasons, runSimulation, runUnsafeSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

/** The account every resolved ARN is in. Any 12 digits do; this one is obviously fake. */
export const TEST_ACCOUNT = '111111111111';

/** An IAM policy document as JSON (identity, bucket or key policy). */
export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: unknown;
}

/** A policy attached to a principal, named for the failure messages. */
export interface NamedPolicy {
  /** The policy's name (a template's logical id, or any label). */
  readonly name: string;
  /** The resolved document. */
  readonly document: PolicyDocument;
}

/** Who makes the calls, and every policy that decides them. */
export interface SimulatedPrincipal {
  /** The caller: a role ARN (`arn:aws:iam::<account>:role/<name>`) or an assumed-role session ARN. */
  readonly arn: string;
  /** Identity policies attached to the principal. */
  readonly identityPolicies: readonly NamedPolicy[];
  /**
   * Resource policies by resource ARN: a bucket's policy under the bucket ARN
   * (it applies to the bucket's objects too), a key policy under the key ARN.
   * A KMS call is denied unless its key has a policy here that allows it, as on AWS.
   * @default - no resource policies
   */
  readonly resourcePolicies?: Readonly<Record<string, PolicyDocument>>;
}

/** One AWS API call as IAM authorizes it. */
export interface SimulatedRequest {
  /** The IAM action, e.g. `s3:GetObjectVersion`. */
  readonly action: string;
  /** The concrete resource ARN the call acts on (`*` only for actions that take no resource). */
  readonly resource: string;
  /**
   * Request context keys, e.g. `{ 's3:versionid': '3HL4kqtJlcpXroDTDmJ' }`.
   * A key that does not apply to the action and resource makes the request invalid.
   * @default - none
   */
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
  /**
   * The account that owns the resource (S3 ARNs carry none).
   * @default TEST_ACCOUNT
   */
  readonly resourceAccount?: string;
  /**
   * What the call is, in words, for the failure message.
   * @default - the action and resource
   */
  readonly description?: string;
}

/** The simulator's answer for one request. */
export interface SimulationOutcome {
  /** `invalid`: the request or a policy is malformed (unknown action, wrong resource type, inapplicable context key, bad policy). */
  readonly decision: 'allowed' | 'implicitly denied' | 'explicitly denied' | 'invalid';
  /** Which statements allowed, which policy denied, or what is invalid. */
  readonly reason: string;
}

/**
 * Evaluates one request against the principal's policies.
 * Never throws for a bad request: it answers `invalid` with the cause.
 */
export async function simulate(principal: SimulatedPrincipal, request: SimulatedRequest): Promise<SimulationOutcome> {
  if (request.resource !== '*' && request.resource.includes('*')) {
    return { decision: 'invalid', reason: `resource ${request.resource} has a wildcard; a real call names one resource` };
  }
  const resourcePolicy = resourcePolicyFor(principal.resourcePolicies ?? {}, request.resource);
  if (request.action.toLowerCase().startsWith('kms:') && request.resource !== '*' && resourcePolicy === undefined) {
    return { decision: 'invalid', reason: `no key policy given for ${request.resource}; KMS denies every call without one` };
  }
  const simulation: Simulation = {
    request: {
      principal: principal.arn,
      action: request.action,
      resource: { resource: request.resource, accountId: request.resourceAccount ?? TEST_ACCOUNT },
      contextVariables: Object.fromEntries(Object.entries(request.context ?? {}).map(([key, value]) => [key, typeof value === 'string' ? value : [...value]])),
    },
    identityPolicies: principal.identityPolicies.map((policy) => ({ name: policy.name, policy: policy.document })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy,
  };

  const result = await runSimulation(simulation, { simulationMode: 'Strict' });
  if (result.resultType === 'error') return { decision: 'invalid', reason: describeErrors(result.errors) };
  if (result.resultType !== 'single') {
    return { decision: 'invalid', reason: `resource ${request.resource} was read as a pattern; give a concrete ARN` };
  }

  const ignored = result.result.ignoredContextKeys ?? [];
  if (ignored.length > 0) {
    // The library matches variable keys only when the variable follows a slash
    // (aws:PrincipalTag/<key>); keys such as kms:EncryptionContext:<key> are
    // valid on AWS but dropped. Such keys are checked here against the action's
    // key patterns, then the (already validated) request is evaluated with them.
    const [service = '', action = ''] = request.action.split(':');
    const allowedKeys = await allowedContextKeysForRequest(service, action, request.resource, false, undefined);
    const notApplicable = ignored.filter((key) => !matchesVariableKey(key, allowedKeys));
    if (notApplicable.length > 0) {
      return { decision: 'invalid', reason: `context key(s) ${notApplicable.join(', ')} do not apply to ${request.action} on ${request.resource}` };
    }
    // The unsafe entry point loads a plain resource policy without a name and
    // then fails reading it; a pre-validated policy (iam-policy's
    // ValidatedPolicy shape, which loadPolicy accepts) carries one.
    const named = resourcePolicy === undefined ? undefined : { __validated: true, policyDocument: resourcePolicy, metadata: { name: 'resource policy' }, errors: [] };
    const decision = runUnsafeSimulation({ ...simulation, resourcePolicy: named }, { simulationMode: 'Strict' });
    return { decision: toDecision(decision), reason: `${decision} (evaluated with ${ignored.join(', ')})` };
  }

  const analysis = result.result.analysis;
  const decision = toDecision(result.overallResult);
  if (decision === 'allowed') {
    const grants = getGrantReasons(analysis).map((grant) => {
      const where = 'policyIdentifier' in grant ? `${grant.policyType} policy ${grant.policyIdentifier}` : `${grant.policyType} policy`;
      return `${where} statement ${grant.statementId ?? `#${grant.statementIndex}`}`;
    });
    return { decision, reason: `allowed by ${grants.join(', ') || 'the policies'}` };
  }
  const denials = getDenialReasons(analysis).map((denial) =>
    denial.denialType === 'Explicit'
      ? `explicit Deny in the ${denial.policyType} policy${denial.policyIdentifier === undefined ? '' : ` ${denial.policyIdentifier}`}, statement ${denial.statementId ?? `#${denial.statementIndex}`}`
      : `no statement of the ${denial.policyType} policies allows it`,
  );
  return { decision, reason: denials.join('; ') || 'no policy allows it' };
}

/** Fails (one message listing each) unless every request is allowed. */
export async function expectAllowed(principal: SimulatedPrincipal, requests: readonly SimulatedRequest[]): Promise<void> {
  await expectDecisions(principal, requests, 'allowed');
}

/**
 * Fails (one message listing each) unless every request is denied. An invalid
 * request fails too: a typo in an action must not pass as a denial.
 */
export async function expectDenied(principal: SimulatedPrincipal, requests: readonly SimulatedRequest[]): Promise<void> {
  await expectDecisions(principal, requests, 'denied');
}

async function expectDecisions(principal: SimulatedPrincipal, requests: readonly SimulatedRequest[], wanted: 'allowed' | 'denied'): Promise<void> {
  if (requests.length === 0) throw new Error('no requests to check');
  const wrong: string[] = [];
  for (const request of requests) {
    const outcome = await simulate(principal, request);
    const ok = wanted === 'allowed' ? outcome.decision === 'allowed' : outcome.decision === 'implicitly denied' || outcome.decision === 'explicitly denied';
    if (!ok) wrong.push(`  - ${describeRequest(request)}: ${outcome.decision} (${outcome.reason})`);
  }
  if (wrong.length > 0) {
    throw new Error(`${wrong.length} of ${requests.length} request(s) by ${principal.arn} not ${wanted}:\n${wrong.join('\n')}`);
  }
}

function describeRequest(request: SimulatedRequest): string {
  const context = Object.keys(request.context ?? {}).length > 0 ? ` ${JSON.stringify(request.context)}` : '';
  return request.description ?? `${request.action} on ${request.resource}${context}`;
}

function toDecision(result: string): SimulationOutcome['decision'] {
  if (result === 'Allowed') return 'allowed';
  if (result === 'ExplicitlyDenied') return 'explicitly denied';
  return 'implicitly denied';
}

function describeErrors(errors: { readonly message: string }): string {
  const details = Object.entries(errors)
    .filter(([key]) => key !== 'message')
    .map(([key, value]) => `${key}: ${JSON.stringify(value)}`);
  return [errors.message, ...details].join('; ');
}

/** `kms:EncryptionContext:PARAMETER_ARN` matches the action's `kms:encryptioncontext:${encryptioncontextkey}`. */
function matchesVariableKey(key: string, allowedKeys: readonly string[]): boolean {
  const lower = key.toLowerCase();
  return allowedKeys.some((allowed) => {
    const variableAt = allowed.indexOf('${');
    return variableAt > 0 && allowed.endsWith('}') && lower.startsWith(allowed.slice(0, variableAt)) && lower.length > variableAt;
  });
}

/** A bucket's policy governs its objects; any other resource's policy is found by its exact ARN. */
function resourcePolicyFor(policies: Readonly<Record<string, PolicyDocument>>, resource: string): PolicyDocument | undefined {
  const exact = policies[resource];
  if (exact !== undefined) return exact;
  const s3Object = /^(arn:[^:]+:s3:::[^/]+)\//.exec(resource);
  return s3Object?.[1] === undefined ? undefined : policies[s3Object[1]];
}

// ---------------------------------------------------------------------------
// Synthesized templates to concrete policies

/** A CloudFormation template as JSON. */
export interface TemplateJson {
  readonly Resources?: Record<string, { readonly Type: string; readonly Properties?: Record<string, unknown> }>;
  readonly Outputs?: Record<string, { readonly Value: unknown; readonly Export?: { readonly Name: unknown } }>;
}

/** A role's policies as far as the templates define them. */
export interface RolePolicies extends SimulatedPrincipal {
  /** The role's name (fake, derived from the stack and logical id unless the template names it). */
  readonly roleName: string;
  /**
   * Managed policies attached by ARN that no template defines (AWS managed
   * policies such as AmazonSSMManagedInstanceCore). Their documents are not
   * available offline, so they take no part in `simulate`: assert on this list
   * instead.
   */
  readonly unresolvedManagedPolicyArns: readonly string[];
}

/** The templates of an app, with every intrinsic resolvable to a concrete value. */
export interface ResolvedApp {
  /** The region the stacks are in. */
  readonly region: string;
  /** The concrete ARN of a resource (its `Fn::GetAtt ... Arn`, or its Ref where the Ref is the ARN). */
  arnOf(stackName: string, logicalId: string): string;
  /** Resolves any template value (a policy, a property) to plain JSON. */
  resolve(stackName: string, value: unknown): unknown;
  /**
   * Every policy that applies to the role: `AWS::IAM::Policy` and
   * `AWS::IAM::ManagedPolicy` resources in ANY stack that attach to it, the
   * role's inline `Policies`, managed policies defined in a template, and the
   * buckets' and keys' policies of every stack as resource policies.
   */
  rolePolicies(stackName: string, roleLogicalId: string): RolePolicies;
  /** Every bucket policy (under the bucket ARN) and key policy (under the key ARN) of every stack. */
  resourcePolicies(): Record<string, PolicyDocument>;
}

/** Options for `resolveApp`. */
export interface ResolveAppOptions {
  /**
   * The region pseudo parameter and the region of stacks that set none.
   * @default - the region of the first `Stack` given, else `us-east-1`
   */
  readonly region?: string;
  /**
   * Physical names to use instead of the fake ones, by `<stack>/<logicalId>`
   * (e.g. a bucket name a test wants to see in ARNs).
   * @default - names derived from stack name and logical id
   */
  readonly physicalNames?: Readonly<Record<string, string>>;
}

/**
 * Resolves synthesized stacks (CDK `Stack`s, or template JSON by stack name)
 * for a fake account, `TEST_ACCOUNT`.
 */
export function resolveApp(stacks: readonly Stack[] | Readonly<Record<string, TemplateJson>>, options: ResolveAppOptions = {}): ResolvedApp {
  const templates: Record<string, TemplateJson> = {};
  let defaultRegion = options.region;
  if (Array.isArray(stacks)) {
    for (const stack of stacks as readonly Stack[]) {
      templates[stack.stackName] = Template.fromStack(stack).toJSON();
      if (defaultRegion === undefined && !isToken(stack.region)) defaultRegion = stack.region;
    }
  } else {
    Object.assign(templates, stacks);
  }
  return new AppResolver(templates, defaultRegion ?? 'us-east-1', options.physicalNames ?? {});
}

function isToken(value: string): boolean {
  return value.includes('${Token[');
}

class AppResolver implements ResolvedApp {
  constructor(
    private readonly templates: Readonly<Record<string, TemplateJson>>,
    readonly region: string,
    private readonly physicalNames: Readonly<Record<string, string>>,
  ) {}

  arnOf(stackName: string, logicalId: string): string {
    return this.attribute(stackName, logicalId, 'Arn');
  }

  resolve(stackName: string, value: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => this.resolve(stackName, item));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    const [first] = entries;
    if (entries.length === 1 && first !== undefined && (first[0] === 'Ref' || first[0].startsWith('Fn::'))) {
      return this.intrinsic(stackName, first[0], first[1]);
    }
    return Object.fromEntries(entries.map(([key, item]) => [key, this.resolve(stackName, item)]));
  }

  rolePolicies(stackName: string, roleLogicalId: string): RolePolicies {
    const role = this.resource(stackName, roleLogicalId);
    if (role.Type !== 'AWS::IAM::Role') throw new Error(`${stackName}/${roleLogicalId} is a ${role.Type}, not an AWS::IAM::Role`);
    const roleName = this.ref(stackName, roleLogicalId);
    const roleArn = this.arnOf(stackName, roleLogicalId);
    const identityPolicies: NamedPolicy[] = [];
    const unresolvedManagedPolicyArns: string[] = [];

    const inline = (role.Properties?.Policies ?? []) as readonly { PolicyName: unknown; PolicyDocument: unknown }[];
    for (const policy of inline) {
      identityPolicies.push({ name: `${roleLogicalId}/${String(this.resolve(stackName, policy.PolicyName))}`, document: this.resolve(stackName, policy.PolicyDocument) as PolicyDocument });
    }

    const managedArns = new Set((this.resolve(stackName, role.Properties?.ManagedPolicyArns ?? []) as string[]).map(String));
    for (const [otherStack, template] of Object.entries(this.templates)) {
      for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
        if (resource.Type !== 'AWS::IAM::Policy' && resource.Type !== 'AWS::IAM::ManagedPolicy') continue;
        const attachedTo = (this.resolve(otherStack, resource.Properties?.Roles ?? []) as unknown[]).map(String);
        const isManaged = resource.Type === 'AWS::IAM::ManagedPolicy';
        const managedArn = isManaged ? this.ref(otherStack, logicalId) : undefined;
        if (!attachedTo.includes(roleName) && !(managedArn !== undefined && managedArns.has(managedArn))) continue;
        if (managedArn !== undefined) managedArns.delete(managedArn);
        identityPolicies.push({ name: `${otherStack}/${logicalId}`, document: this.resolve(otherStack, resource.Properties?.PolicyDocument) as PolicyDocument });
      }
    }
    unresolvedManagedPolicyArns.push(...managedArns);

    return { arn: roleArn, roleName, identityPolicies, resourcePolicies: this.resourcePolicies(), unresolvedManagedPolicyArns };
  }

  resourcePolicies(): Record<string, PolicyDocument> {
    const policies: Record<string, PolicyDocument> = {};
    for (const [stackName, template] of Object.entries(this.templates)) {
      for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
        if (resource.Type === 'AWS::S3::BucketPolicy') {
          const bucket = String(this.resolve(stackName, resource.Properties?.Bucket));
          policies[`arn:aws:s3:::${bucket}`] = this.resolve(stackName, resource.Properties?.PolicyDocument) as PolicyDocument;
        } else if (resource.Type === 'AWS::KMS::Key' && resource.Properties?.KeyPolicy !== undefined) {
          policies[this.arnOf(stackName, logicalId)] = this.resolve(stackName, resource.Properties.KeyPolicy) as PolicyDocument;
        }
      }
    }
    return policies;
  }

  private resource(stackName: string, logicalId: string): { readonly Type: string; readonly Properties?: Record<string, unknown> } {
    const template = this.templates[stackName];
    if (template === undefined) throw new Error(`no stack named ${stackName} (have: ${Object.keys(this.templates).join(', ')})`);
    const resource = template.Resources?.[logicalId];
    if (resource === undefined) throw new Error(`stack ${stackName} has no resource ${logicalId}`);
    return resource;
  }

  private intrinsic(stackName: string, name: string, argument: unknown): unknown {
    switch (name) {
      case 'Ref':
        return this.ref(stackName, String(argument));
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = typeof argument === 'string' ? argument.split(/\.(.*)/s) : (argument as string[]);
        return this.attribute(stackName, String(logicalId), String(attribute));
      }
      case 'Fn::Join': {
        const [separator, parts] = argument as [string, unknown];
        const resolved = this.resolve(stackName, parts);
        if (!Array.isArray(resolved)) throw new Error(`Fn::Join over a non-list in ${stackName}`);
        return resolved.map(String).join(separator);
      }
      case 'Fn::Sub': {
        const [text, variables] = typeof argument === 'string' ? [argument, {}] : (argument as [string, Record<string, unknown>]);
        const resolvedVariables = this.resolve(stackName, variables) as Record<string, unknown>;
        return text.replace(/\$\{([^}!][^}]*)\}/g, (_match, expression: string) => {
          if (expression in resolvedVariables) return String(resolvedVariables[expression]);
          const [logicalId, attribute] = expression.split(/\.(.*)/s);
          return String(attribute === undefined ? this.ref(stackName, String(logicalId)) : this.attribute(stackName, String(logicalId), attribute));
        });
      }
      case 'Fn::Select': {
        const [index, list] = argument as [unknown, unknown];
        const resolved = this.resolve(stackName, list);
        if (!Array.isArray(resolved)) throw new Error(`Fn::Select over a non-list in ${stackName}`);
        return resolved[Number(this.resolve(stackName, index))];
      }
      case 'Fn::Split': {
        const [separator, text] = argument as [string, unknown];
        return String(this.resolve(stackName, text)).split(separator);
      }
      case 'Fn::GetStackOutput': {
        const { StackName, OutputName } = argument as { StackName: unknown; OutputName: unknown };
        return this.output(String(this.resolve(stackName, StackName)), String(this.resolve(stackName, OutputName)));
      }
      case 'Fn::ImportValue': {
        const exportName = String(this.resolve(stackName, argument));
        for (const [otherStack, template] of Object.entries(this.templates)) {
          for (const output of Object.values(template.Outputs ?? {})) {
            if (output.Export !== undefined && this.resolve(otherStack, output.Export.Name) === exportName) return this.resolve(otherStack, output.Value);
          }
        }
        throw new Error(`no stack exports ${exportName}`);
      }
      default:
        throw new Error(`${name} (in ${stackName}) is not resolvable offline; teach test-support/iam-simulator.ts`);
    }
  }

  private output(stackName: string, outputName: string): unknown {
    const output = this.templates[stackName]?.Outputs?.[outputName];
    if (output === undefined) throw new Error(`stack ${stackName} has no output ${outputName}`);
    return this.resolve(stackName, output.Value);
  }

  /** A fake physical name: stable, unique per stack and logical id, valid for the resource types used here. */
  private physicalName(stackName: string, logicalId: string, maxLength: number, lowerCase = false): string {
    const given = this.physicalNames[`${stackName}/${logicalId}`];
    if (given !== undefined) return given;
    const name = `${stackName}-${logicalId}`.slice(0, maxLength);
    return lowerCase ? name.toLowerCase() : name;
  }

  private named(stackName: string, logicalId: string, property: string): string | undefined {
    const value = this.resource(stackName, logicalId).Properties?.[property];
    return value === undefined ? undefined : String(this.resolve(stackName, value));
  }

  private ref(stackName: string, logicalId: string): string {
    switch (logicalId) {
      case 'AWS::AccountId':
        return TEST_ACCOUNT;
      case 'AWS::Region':
        return this.region;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return stackName;
      case 'AWS::NoValue':
        throw new Error(`AWS::NoValue in ${stackName} is not resolvable offline`);
      default:
        break;
    }
    const { Type: type } = this.resource(stackName, logicalId);
    const account = TEST_ACCOUNT;
    const region = this.region;
    switch (type) {
      case 'AWS::S3::Bucket':
        return this.named(stackName, logicalId, 'BucketName') ?? this.physicalName(stackName, logicalId, 63, true);
      case 'AWS::IAM::Role':
        return this.named(stackName, logicalId, 'RoleName') ?? this.physicalName(stackName, logicalId, 64);
      case 'AWS::IAM::ManagedPolicy':
        return `arn:aws:iam::${account}:policy/${this.named(stackName, logicalId, 'ManagedPolicyName') ?? this.physicalName(stackName, logicalId, 128)}`;
      case 'AWS::KMS::Key':
        return this.physicalNames[`${stackName}/${logicalId}`] ?? fakeId(`${stackName}/${logicalId}`, 'uuid');
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${region}:${account}:${this.named(stackName, logicalId, 'TopicName') ?? this.physicalName(stackName, logicalId, 256)}`;
      case 'AWS::StepFunctions::StateMachine':
        return `arn:aws:states:${region}:${account}:stateMachine:${this.named(stackName, logicalId, 'StateMachineName') ?? this.physicalName(stackName, logicalId, 80)}`;
      case 'AWS::CodeBuild::ReportGroup':
        return `arn:aws:codebuild:${region}:${account}:report-group/${this.named(stackName, logicalId, 'Name') ?? this.physicalName(stackName, logicalId, 128)}`;
      case 'AWS::ElasticLoadBalancingV2::TargetGroup':
        return `arn:aws:elasticloadbalancing:${region}:${account}:targetgroup/${(this.named(stackName, logicalId, 'Name') ?? logicalId).slice(0, 32)}/${fakeId(`${stackName}/${logicalId}`, 'hex16')}`;
      case 'AWS::EC2::LaunchTemplate':
        return `lt-${fakeId(`${stackName}/${logicalId}`, 'hex17')}`;
      case 'AWS::EC2::Subnet':
        return `subnet-${fakeId(`${stackName}/${logicalId}`, 'hex17')}`;
      case 'AWS::EC2::SecurityGroup':
        return `sg-${fakeId(`${stackName}/${logicalId}`, 'hex17')}`;
      case 'AWS::EC2::VPC':
        return `vpc-${fakeId(`${stackName}/${logicalId}`, 'hex17')}`;
      default: {
        const nameProperty = NAME_PROPERTIES[type];
        return (nameProperty === undefined ? undefined : this.named(stackName, logicalId, nameProperty)) ?? this.physicalName(stackName, logicalId, 64);
      }
    }
  }

  private attribute(stackName: string, logicalId: string, attribute: string): string {
    const { Type: type } = this.resource(stackName, logicalId);
    const account = TEST_ACCOUNT;
    const region = this.region;
    const name = (): string => this.ref(stackName, logicalId);
    const key = `${type}.${attribute}`;
    switch (key) {
      case 'AWS::S3::Bucket.Arn':
        return `arn:aws:s3:::${name()}`;
      case 'AWS::IAM::Role.Arn':
        return `arn:aws:iam::${account}:role/${name()}`;
      case 'AWS::KMS::Key.Arn':
        return `arn:aws:kms:${region}:${account}:key/${name()}`;
      case 'AWS::KMS::Key.KeyId':
        return name();
      case 'AWS::Logs::LogGroup.Arn':
        return `arn:aws:logs:${region}:${account}:log-group:${name()}:*`;
      case 'AWS::Lambda::Function.Arn':
        return `arn:aws:lambda:${region}:${account}:function:${name()}`;
      case 'AWS::CodeBuild::Project.Arn':
        return `arn:aws:codebuild:${region}:${account}:project/${name()}`;
      case 'AWS::CodeBuild::ReportGroup.Arn':
      case 'AWS::SNS::Topic.TopicArn':
      case 'AWS::StepFunctions::StateMachine.Arn':
        return name();
      case 'AWS::SQS::Queue.Arn':
        return `arn:aws:sqs:${region}:${account}:${name()}`;
      case 'AWS::CodeDeploy::Application.Arn':
        return `arn:aws:codedeploy:${region}:${account}:application:${name()}`;
      case 'AWS::CodePipeline::Pipeline.Arn':
        return `arn:aws:codepipeline:${region}:${account}:${name()}`;
      // A repository's Ref is its id; its name and ARN are attributes.
      case 'AWS::CodeCommit::Repository.Name':
        return this.named(stackName, logicalId, 'RepositoryName') ?? this.physicalName(stackName, logicalId, 100);
      case 'AWS::CodeCommit::Repository.Arn':
        return `arn:aws:codecommit:${region}:${account}:${this.attribute(stackName, logicalId, 'Name')}`;
      case 'AWS::EC2::SecurityGroup.GroupId':
        return name();
      case 'AWS::EC2::VPC.DefaultSecurityGroup':
        return `sg-${fakeId(`${stackName}/${logicalId}/default`, 'hex17')}`;
      case 'AWS::EC2::LaunchTemplate.LatestVersionNumber':
      case 'AWS::EC2::LaunchTemplate.DefaultVersionNumber':
        return '1';
      default:
        throw new Error(`Fn::GetAtt ${logicalId}.${attribute} (${type}, in ${stackName}) is not resolvable offline; teach test-support/iam-simulator.ts`);
    }
  }
}

/** The property holding a resource's physical name, for types whose Ref is that name. */
const NAME_PROPERTIES: Readonly<Record<string, string>> = {
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::CodeBuild::Project': 'Name',
  'AWS::CodeDeploy::Application': 'ApplicationName',
  'AWS::CodeDeploy::DeploymentGroup': 'DeploymentGroupName',
  'AWS::CodePipeline::Pipeline': 'Name',
  'AWS::AutoScaling::AutoScalingGroup': 'AutoScalingGroupName',
  'AWS::SSM::Parameter': 'Name',
  'AWS::SQS::Queue': 'QueueName',
};

/** A stable fake identifier derived from `seed` (FNV-1a), in the shape AWS uses. */
function fakeId(seed: string, shape: 'uuid' | 'hex16' | 'hex17'): string {
  let hex = '';
  for (let round = 0; hex.length < 32; round += 1) {
    let hash = 0x811c9dc5;
    for (const char of `${round}:${seed}`) {
      hash ^= char.charCodeAt(0);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    hex += hash.toString(16).padStart(8, '0');
  }
  if (shape === 'hex16') return hex.slice(0, 16);
  if (shape === 'hex17') return hex.slice(0, 17);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
