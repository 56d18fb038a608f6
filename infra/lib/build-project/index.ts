import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

import { pipelineArtifactObjects } from '../artifact-store';
import { acknowledge, s3GrantFindings, wildcardResourceFinding } from '../nag';
import { names, SERVICE_NAME } from '../names';

/**
 * CodeBuild's Ubuntu 24.04 standard image, version 8.0: it offers the
 * `nodejs: 22` runtime buildspec.yml asks for (and 24).
 */
export const BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_8_0;

export interface ServiceBuildProps {
  /** Encrypts the build output CodeBuild uploads. */
  readonly encryptionKey: kms.IKey;
  /** Holds the S3 cache (npm cache and Turborepo cache, as listed in buildspec.yml `cache:`). */
  readonly cacheBucket: s3.IBucket;
  /**
   * The pipeline's artifact bucket. The build gets nothing in it until
   * `grantPipelineArtifacts` names the artifacts it reads and writes.
   */
  readonly artifactBucket: s3.IBucket;
  /** What `cdk destroy` does with the report group and the build logs. */
  readonly removalPolicy: RemovalPolicy;
  /**
   * How long build logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The CodeBuild project that runs the repository's buildspec.yml: install,
 * audit, lint, type-check, test, build and package the CodeDeploy bundle.
 */
export class ServiceBuild extends Construct {
  readonly project: codebuild.PipelineProject;
  /**
   * The role builds run with. It holds exactly the grants made here: the
   * project sees it through `withoutPolicyUpdates()`, so the grants CDK makes
   * on its own (above all the pipeline's read-write on the WHOLE artifact
   * bucket, which `CodeBuildAction` gives any project with an output) add
   * nothing. Whatever the build needs is granted below or by
   * `grantPipelineArtifacts`; a CodeStar full-clone source
   * (`CODEBUILD_CLONE_REF`) would need `codestar-connections:UseConnection`
   * added here too.
   */
  readonly role: iam.Role;
  /** The stack-owned JUnit report group; buildspec.yml reports to it under the key `junit`. */
  readonly reportGroup: codebuild.ReportGroup;
  readonly logGroup: logs.LogGroup;
  private readonly artifactBucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: ServiceBuildProps) {
    super(scope, id);
    const destroy = props.removalPolicy === RemovalPolicy.DESTROY;
    this.artifactBucket = props.artifactBucket;

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/codebuild/${names.buildProject}`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
      description: `${SERVICE_NAME} build: its logs, report group, cache and key; in the artifact bucket, its input and output only`,
    });

    this.project = new codebuild.PipelineProject(this, 'Project', {
      role: this.role.withoutPolicyUpdates(),
      projectName: names.buildProject,
      description: `${SERVICE_NAME}: install, audit, lint, test, build and package the CodeDeploy bundle`,
      buildSpec: codebuild.BuildSpec.fromSourceFilename('buildspec.yml'),
      environment: {
        buildImage: BUILD_IMAGE,
        // 4 vCPU / 7 GB: the monorepo's jest suites (CDK synth tests included) need the memory.
        computeType: codebuild.ComputeType.MEDIUM,
        privileged: false,
      },
      encryptionKey: props.encryptionKey,
      cache: codebuild.Cache.bucket(props.cacheBucket, { prefix: 'codebuild', cacheNamespace: SERVICE_NAME }),
      logging: { cloudWatch: { logGroup: this.logGroup } },
      timeout: Duration.minutes(30),
      // Only the one report group below, not CDK's default "any group named <project>-*".
      grantReportGroupPermissions: false,
    });

    this.reportGroup = new codebuild.ReportGroup(this, 'JunitReports', {
      reportGroupName: names.junitReportGroup,
      type: codebuild.ReportGroupType.TEST,
      removalPolicy: props.removalPolicy,
      deleteReports: destroy,
    });

    // No build may start before its permissions exist (the pipeline starts one as soon as it is created).
    this.project.node.addDependency(this.role);

    // The grants CDK would have made for the project's own settings, made explicitly.
    this.logGroup.grantWrite(this.role);
    this.reportGroup.grantWrite(this.role);
    props.cacheBucket.grantReadWrite(this.role);
    props.encryptionKey.grantEncryptDecrypt(this.role);
    acknowledge(
      this.role,
      'The cache bucket holds nothing but this project\'s S3 cache, which every build reads and rewrites under names CodeBuild chooses; the key encrypts that cache and the build output.',
      ...s3GrantFindings(props.cacheBucket),
    );
  }

  /**
   * Lets the build read its input artifact and write its output artifact in
   * the pipeline's artifact bucket, and nothing else there: no other
   * artifact, no delete, no listing. Call it once per CodeBuild action.
   *
   * Granted per action because CodePipeline names each artifact object
   * `<pipeline name, first 20 characters>/<artifact name, first 10 characters>/<random name per execution>`:
   * the prefix tells one action's artifact from another's, the random name
   * is known only at run time.
   */
  grantPipelineArtifacts(options: PipelineArtifactsGrant): void {
    const { pipelineName, input, output } = options;
    const bucket = this.artifactBucket;
    const inputObjects = pipelineArtifactObjects(bucket, pipelineName, input);
    const outputObjects = pipelineArtifactObjects(bucket, pipelineName, output);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'ReadInputArtifact', actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [inputObjects] }),
    );
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'WriteOutputArtifact', actions: ['s3:PutObject'], resources: [outputObjects] }));
    // CodeBuild checks the bucket's owner and region before it uploads.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'LocateArtifactBucket', actions: ['s3:GetBucketAcl', 's3:GetBucketLocation'], resources: [bucket.bucketArn] }),
    );
    acknowledge(
      this.role,
      'CodePipeline gives each execution\'s artifact a random object name under <pipeline>/<artifact>/, known only at run time; ' +
        'the wildcard is confined to the one artifact the build reads and the one it writes, so it cannot touch a revision another action produced.',
      wildcardResourceFinding(this, inputObjects),
      wildcardResourceFinding(this, outputObjects),
    );
  }
}

/** What `ServiceBuild.grantPipelineArtifacts` scopes the build's artifact access to. */
export interface PipelineArtifactsGrant {
  /** The pipeline's physical name (its first 20 characters prefix every artifact object). */
  readonly pipelineName: string;
  /** The artifact the build action reads; it must have a name. */
  readonly input: codepipeline.Artifact;
  /** The artifact the build action writes; it must have a name. */
  readonly output: codepipeline.Artifact;
}
