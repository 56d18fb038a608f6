import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

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
  /** The pipeline's artifact bucket: the build reads the source zip from it and writes the bundle to it. */
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
  /** The stack-owned JUnit report group; buildspec.yml reports to it under the key `junit`. */
  readonly reportGroup: codebuild.ReportGroup;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ServiceBuildProps) {
    super(scope, id);
    const destroy = props.removalPolicy === RemovalPolicy.DESTROY;

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/codebuild/${names.buildProject}`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy,
    });

    this.project = new codebuild.PipelineProject(this, 'Project', {
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
    this.reportGroup.grantWrite(this.project);

    acknowledge(
      this.project,
      'CDK\'s grants for CodeBuild on the pipeline artifact bucket and the build cache bucket: object wildcards in those two buckets and their key.',
      ...s3GrantFindings(props.artifactBucket),
      ...s3GrantFindings(props.cacheBucket),
    );
    acknowledge(
      this.project,
      'CodeBuild creates one log stream per build in the project\'s log group; stream names are build ids, known only at run time.',
      wildcardResourceFinding(this, `arn:${this.project.stack.partition}:logs:${this.project.stack.region}:${this.project.stack.account}:log-group:/aws/codebuild/${this.project.projectName}:*`),
    );
  }
}
