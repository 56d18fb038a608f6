import { BuildspecError, parseBuildspec, type BuildspecProblem } from '../index';

function problemsOf(text: string): readonly BuildspecProblem[] {
  try {
    parseBuildspec(text);
  } catch (error) {
    if (error instanceof BuildspecError) return error.problems;
    throw error;
  }
  throw new Error('expected parseBuildspec to throw a BuildspecError');
}

const MINIMAL = `version: 0.2
phases:
  build:
    commands:
      - echo hi
`;

describe('parseBuildspec with valid buildspecs', () => {
  it('when every supported section is present, then they are read with their documented defaults', () => {
    const spec = parseBuildspec(`version: 0.2
env:
  shell: bash
  variables:
    RATIO: 0.10
    ENABLED: yes
  parameter-store:
    DB_PASSWORD: /app/db/password
phases:
  install:
    runtime-versions:
      nodejs: 22
    commands:
      - npm ci
    finally:
      - echo done
  build:
    on-failure: CONTINUE
    commands:
      - "echo key: value"
reports:
  junit:
    files: ["**/*.xml"]
    base-directory: reports/junit
    file-format: junitxml
artifacts:
  files: ["**/*"]
  base-directory: dist
  discard-paths: yes
  exclude-paths: ["**/*.map"]
cache:
  paths: [".npm-cache/**/*"]
  action: restore
`);

    expect(spec.env.variables).toEqual({ RATIO: '0.10', ENABLED: 'yes' });
    expect(spec.env.parameterStore).toEqual({ DB_PASSWORD: '/app/db/password' });
    expect(spec.phases.install).toEqual({
      commands: ['npm ci'],
      finally: ['echo done'],
      onFailure: undefined,
      runtimeVersions: { nodejs: '22' },
    });
    expect(spec.phases.build?.onFailure).toBe('CONTINUE');
    expect(spec.phases.build?.commands).toEqual(['echo key: value']);
    expect(spec.phases.pre_build).toBeUndefined();
    expect(spec.reports['junit']).toEqual({
      files: ['**/*.xml'],
      baseDirectory: 'reports/junit',
      discardPaths: false,
      fileFormat: 'JUNITXML',
    });
    expect(spec.artifacts).toEqual({
      files: ['**/*'],
      baseDirectory: 'dist',
      discardPaths: true,
      excludePaths: ['**/*.map'],
      enableSymlinks: false,
    });
    expect(spec.cache).toEqual({ paths: ['.npm-cache/**/*'], key: undefined, fallbackKeys: [], restore: true, save: false });
  });
});

describe('parseBuildspec rejects bad buildspecs, naming the key', () => {
  it('when the version is 0.1, then the error names version and explains why 0.2 is needed', () => {
    const problems = problemsOf(MINIMAL.replace('0.2', '0.1'));

    expect(problems).toEqual([expect.objectContaining({ key: 'version', line: 1 })]);
    expect(problems[0]?.problem).toMatch(/its own shell/);
  });

  it('when the version is missing, then the error names version', () => {
    expect(problemsOf('phases:\n  build:\n    commands: [ls]\n')).toEqual([
      expect.objectContaining({ key: 'version', problem: expect.stringMatching(/required/) as unknown }),
    ]);
  });

  it('when phases is missing, then the error names phases', () => {
    expect(problemsOf('version: 0.2\nartifacts:\n  files: [a]\n')).toEqual([expect.objectContaining({ key: 'phases' })]);
  });

  it('when commands is a string instead of a list, then the error names the phase commands key and its line', () => {
    const problems = problemsOf('version: 0.2\nphases:\n  build:\n    commands: npm test\n');

    expect(problems).toEqual([{ key: 'phases.build.commands', line: 4, problem: 'must be a list of commands' }]);
  });

  it('when an unquoted command contains ": ", then the error names the item and says to quote it', () => {
    const problems = problemsOf('version: 0.2\nphases:\n  build:\n    commands:\n      - ls\n      - echo key: value\n');

    expect(problems).toEqual([expect.objectContaining({ key: 'phases.build.commands[1]', line: 6 })]);
    expect(problems[0]?.problem).toMatch(/quote/);
  });

  it('when a key is misspelled, then the error names it and lists the valid keys', () => {
    const problems = problemsOf('version: 0.2\nphases:\n  prebuild:\n    commands: [ls]\n');

    expect(problems).toEqual([expect.objectContaining({ key: 'phases.prebuild', line: 3 })]);
    expect(problems[0]?.problem).toMatch(/install, pre_build, build, post_build/);
  });

  it('when several keys are wrong, then every problem is reported at once', () => {
    const problems = problemsOf(`version: 0.2
phases:
  build:
    on-failure: RETRY
    commands: [ls]
artifacts:
  discard-paths: maybe
reports:
  junit:
    files: [a.xml]
    file-format: PDF
`);

    expect(problems.map((p) => p.key)).toEqual([
      'phases.build.on-failure',
      'artifacts.files',
      'artifacts.discard-paths',
      'reports.junit.file-format',
    ]);
  });

  it('when keys the rehearsal cannot emulate are present, then each is refused as not supported, naming its key and line', () => {
    const problems = problemsOf(`version: 0.2
run-as: builder
proxy:
  upload-artifacts: yes
batch:
  fast-fail: true
env:
  secrets-manager:
    API_TOKEN: prod/api:token
  exported-variables: [VERSION]
phases:
  build:
    run-as: builder
    commands: [make]
reports:
  coverage:
    files: [coverage.xml]
    file-format: JACOCOXML
artifacts:
  files: [out.zip]
  name: my-artifact
  secondary-artifacts:
    extra:
      files: [x]
`);

    expect(problems.map((p) => [p.key, p.line])).toEqual([
      ['run-as', 2],
      ['proxy', 3],
      ['batch', 5],
      ['env.secrets-manager', 8],
      ['env.exported-variables', 10],
      ['phases.build.run-as', 13],
      ['artifacts.name', 21],
      ['artifacts.secondary-artifacts', 22],
      ['reports.coverage.file-format', 18],
    ]);
    for (const p of problems) expect(p.problem).toMatch(/not supported by the rehearsal/);
    expect(JSON.stringify(problems)).not.toContain('prod/api');
  });

  it('when an env variable is a list, then the error names it without quoting any value', () => {
    const problems = problemsOf('version: 0.2\nenv:\n  variables:\n    SECRET: [s3cr3t]\nphases:\n  build:\n    commands: [ls]\n');

    expect(problems).toEqual([expect.objectContaining({ key: 'env.variables.SECRET' })]);
    expect(JSON.stringify(problems)).not.toContain('s3cr3t');
  });

  it('when the YAML itself is invalid, then the error says so with its line', () => {
    const problems = problemsOf('version: 0.2\nversion: 0.2\nphases: {}\n');

    expect(problems).toEqual([expect.objectContaining({ key: '(yaml)', line: 2 })]);
  });

  it('when the error is printed, then its message lists the file, each key and line', () => {
    expect(() => parseBuildspec('version: 0.1\nphases: []\n', { fileName: 'ci/buildspec.yml' })).toThrow(
      /^ci\/buildspec\.yml: 2 problems:\n {2}- version \(line 1\): .*\n {2}- phases \(line 2\): must be a mapping/,
    );
  });
});
