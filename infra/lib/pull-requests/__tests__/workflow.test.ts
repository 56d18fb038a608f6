// The GitHub pull-request workflow and the CodeCommit check, held to the
// README: they must run exactly its install and test commands, lint,
// typecheck and synth, so a change to the README's commands fails here until
// both follow.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'yaml';

import { readmeCommands, REPOSITORY_ROOT } from '../../../test-support/readme-commands';
import { CHECK_NODE_RUNTIME, DIFF_ROLE_VARIABLE, PULL_REQUEST_CHECK_COMMANDS, pullRequestBuildSpec } from '..';

interface Step {
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, unknown>;
  readonly 'working-directory'?: string;
}
interface Job {
  readonly if?: string;
  readonly permissions?: Record<string, string>;
  readonly steps: readonly Step[];
}
interface Workflow {
  readonly on: Record<string, unknown>;
  readonly permissions?: Record<string, string>;
  readonly jobs: Record<string, Job>;
}

const WORKFLOW_PATH = join(REPOSITORY_ROOT, '.github', 'workflows', 'pull-request.yml');
const workflowText = readFileSync(WORKFLOW_PATH, 'utf8');
const workflow = parse(workflowText) as Workflow;
const readme = readmeCommands();
/** The order the CI script runs them in: install first, the slow test suite after the quick checks, synth last. */
const expected = [readme.install, readme.lint, readme.typecheck, readme.test, readme.synth];

/** The npm step that installs package.json's packageManager before `npm ci` (npm 11 reads allowScripts). */
const PIN_NPM = /^npm install --global .*packageManager/;

function job(name: string): Job {
  const found = workflow.jobs[name];
  if (found === undefined) throw new Error(`${WORKFLOW_PATH} has no job ${name}`);
  return found;
}

function stepUsing(steps: readonly Step[], action: string): Step {
  const found = steps.find((step) => step.uses?.startsWith(`${action}@`));
  if (found === undefined) throw new Error(`no step uses ${action}`);
  return found;
}

const runs = (steps: readonly Step[]): string[] => steps.flatMap((step) => (step.run === undefined ? [] : [step.run.trim()]));

describe('.github/workflows/pull-request.yml', () => {
  it('when a pull request is opened or updated, then the workflow runs on pull_request, never pull_request_target', () => {
    expect(Object.keys(workflow.on)).toEqual(['pull_request']);
  });

  it("when the checks job runs, then its commands are exactly the README's install, lint, typecheck, test and synth, in that order", () => {
    // Act
    const commands = runs(job('checks').steps);

    // Assert
    expect(commands.filter((command) => !PIN_NPM.test(command))).toEqual(expected);
    expect(commands.findIndex((command) => PIN_NPM.test(command))).toBe(0);
  });

  it("when the checks job sets up Node.js, then it takes .nvmrc, which names CodeBuild's Node.js line and satisfies package.json's engines", () => {
    // Arrange
    const nvmrc = readFileSync(join(REPOSITORY_ROOT, '.nvmrc'), 'utf8').trim();
    const buildspec = parse(readFileSync(join(REPOSITORY_ROOT, 'buildspec.yml'), 'utf8')) as { phases: { install: { 'runtime-versions': { nodejs: number } } } };
    const engines = (JSON.parse(readFileSync(join(REPOSITORY_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    const minimumMajor = Number(/^>=(\d+)\./.exec(engines)?.[1]);

    // Act
    const setupNode = stepUsing(job('checks').steps, 'actions/setup-node');

    // Assert
    expect(setupNode.with).toMatchObject({ 'node-version-file': '.nvmrc' });
    expect(nvmrc).toBe(String(buildspec.phases.install['runtime-versions'].nodejs));
    expect(Number(nvmrc)).toBeGreaterThanOrEqual(minimumMajor);
  });

  it('when the checks job runs, then npm and Turborepo caches are restored, the latter keyed by the lockfile and the commit', () => {
    // Arrange
    const turbo = JSON.parse(readFileSync(join(REPOSITORY_ROOT, 'turbo.json'), 'utf8')) as { cacheDir?: string };
    const steps = job('checks').steps;

    // Act
    const cache = stepUsing(steps, 'actions/cache');

    // Assert
    expect(stepUsing(steps, 'actions/setup-node').with).toMatchObject({ cache: 'npm' });
    expect(turbo.cacheDir ?? '.turbo/cache').toBe(cache.with?.path);
    expect(cache.with?.key).toMatch(/hashFiles\('package-lock\.json'\).*github\.sha/);
    expect(String(cache.with?.['restore-keys'])).toContain("hashFiles('package-lock.json')");
    expect(steps.indexOf(cache)).toBeLessThan(steps.findIndex((step) => step.run?.trim() === readme.install));
  });

  it('when any job runs, then it reads the code and nothing more, except the diff job, which may also ask for an OIDC token', () => {
    expect(workflow.permissions).toEqual({ contents: 'read' });
    expect(job('checks').permissions).toEqual({ contents: 'read' });
    expect(job('diff').permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    expect(Object.keys(workflow.jobs).sort()).toEqual(['checks', 'diff']);
  });

  it('when an action is used, then it is pinned to a full commit SHA with the release named beside it', () => {
    // Act
    const uses = workflowText.split('\n').filter((line) => /^\s*(- )?uses:/.test(line));

    // Assert
    expect(uses.length).toBeGreaterThanOrEqual(5);
    expect(uses.filter((line) => !/uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$/.test(line))).toEqual([]);
    const checkouts = Object.values(workflow.jobs).flatMap((j) => j.steps.filter((step) => step.uses?.startsWith('actions/checkout@')));
    expect(checkouts.map((step) => step.with?.['persist-credentials'])).toEqual([false, false]);
  });

  it('when the diff role is not configured, or the pull request comes from a fork or Dependabot, then the diff job is skipped', () => {
    // Act
    const condition = job('diff').if ?? '';

    // Assert
    expect(condition).toContain(`vars.${DIFF_ROLE_VARIABLE} != ''`);
    expect(condition).toContain('github.event.pull_request.head.repo.full_name == github.repository');
    expect(condition).toContain("github.actor != 'dependabot[bot]'");
  });

  it('when the diff job runs, then it assumes the role from the variable and writes a template-only cdk diff to the job summary, with no cache', () => {
    // Arrange
    const steps = job('diff').steps;

    // Act
    const credentials = stepUsing(steps, 'aws-actions/configure-aws-credentials');
    const diff = steps.find((step) => step.run?.includes('cdk diff'));

    // Assert
    expect(credentials.with).toMatchObject({ 'role-to-assume': `\${{ vars.${DIFF_ROLE_VARIABLE} }}` });
    expect(diff?.['working-directory']).toBe('infra');
    expect(diff?.run).toMatch(/npx cdk diff --method=template/);
    expect(diff?.run).toContain('"${GITHUB_STEP_SUMMARY}"');
    expect(runs(steps)).toContain(readme.install);
    expect(stepUsing(steps, 'actions/setup-node').with).toMatchObject({ 'package-manager-cache': false });
    expect(steps.some((step) => step.uses?.startsWith('actions/cache@'))).toBe(false);
  });
});

describe('the CodeCommit pull-request check', () => {
  it("when it runs, then its commands are exactly the README's install, lint, typecheck, test and synth, as the workflow's", () => {
    // Act
    const commands = (pullRequestBuildSpec() as { phases: { build: { commands: string[] } } }).phases.build.commands;

    // Assert
    expect([...PULL_REQUEST_CHECK_COMMANDS]).toEqual(expected);
    expect(commands.filter((command) => !command.includes('packageManager'))).toEqual(expected);
  });

  it("when it installs Node.js, then it is CodeBuild's runtime from buildspec.yml", () => {
    // Arrange
    const buildspec = parse(readFileSync(join(REPOSITORY_ROOT, 'buildspec.yml'), 'utf8')) as { phases: { install: { 'runtime-versions': { nodejs: number } } } };

    // Assert
    expect(CHECK_NODE_RUNTIME).toBe(buildspec.phases.install['runtime-versions'].nodejs);
  });
});

describe('readmeCommands', () => {
  it('when the README rewords a command row away, then reading fails naming the command it lost', () => {
    // Arrange
    const readmeText = readFileSync(join(REPOSITORY_ROOT, 'README.md'), 'utf8').replace('the install step', 'installs everything');

    // Act
    const act = (): unknown => readmeCommands(readmeText);

    // Assert
    expect(act).toThrow(/0 rows for the install command/);
  });
});
