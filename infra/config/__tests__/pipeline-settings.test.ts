import { exampleDeployConfig as deployConfig } from '../../test-support';
import { cronProblems, DEFAULT_BOOTSTRAP_QUALIFIER, DeployConfigError, isTimeZone, parseDeployConfig } from '../schema';

// The deploy config's `pipeline` field: the CDK bootstrap qualifier and production's deployment window.

function problemsOf(pipeline: unknown): readonly string[] {
  try {
    parseDeployConfig({ ...deployConfig, pipeline });
  } catch (error) {
    if (error instanceof DeployConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

describe('pipeline settings', () => {
  it('when the field is left out, then the default qualifier applies and production has no window', () => {
    // Act
    const config = parseDeployConfig(deployConfig);

    // Assert
    expect(config.pipeline).toEqual({ bootstrapQualifier: DEFAULT_BOOTSTRAP_QUALIFIER });
    expect(DEFAULT_BOOTSTRAP_QUALIFIER).toBe('hnb659fds');
  });

  it('when a window leaves the time zone out, then it is read in UTC', () => {
    // Act
    const config = parseDeployConfig({ ...deployConfig, pipeline: { deploymentWindow: { cron: '* * 9-16 ? * MON-THU' } } });

    // Assert
    expect(config.pipeline.deploymentWindow).toEqual({ cron: '* * 9-16 ? * MON-THU', timeZone: 'UTC' });
  });

  it.each([
    ['an upper-case qualifier', 'pipeline.bootstrapQualifier', { bootstrapQualifier: 'HNB659FDS' }],
    ['a qualifier longer than 10', 'pipeline.bootstrapQualifier', { bootstrapQualifier: 'abcdefghijk' }],
    ['a five-field (Unix) cron', 'pipeline.deploymentWindow.cron', { deploymentWindow: { cron: '0 9-16 * * 1-5' } }],
    ['a cron with seconds other than *', 'pipeline.deploymentWindow.cron', { deploymentWindow: { cron: '0 * 9-16 ? * MON-FRI' } }],
    ['an hour 24', 'pipeline.deploymentWindow.cron', { deploymentWindow: { cron: '* * 9-24 ? * MON-FRI' } }],
    ['both day fields set', 'pipeline.deploymentWindow.cron', { deploymentWindow: { cron: '* * 9-16 * * MON-FRI' } }],
    ['an unknown weekday', 'pipeline.deploymentWindow.cron', { deploymentWindow: { cron: '* * 9-16 ? * MON-FUN' } }],
    ['a year before 1970', 'pipeline.deploymentWindow.cron', { deploymentWindow: { cron: '* * 9-16 ? * MON-FRI 1969' } }],
    ['a made-up time zone', 'pipeline.deploymentWindow.timeZone', { deploymentWindow: { cron: '* * 9-16 ? * MON-FRI', timeZone: 'Mars/Olympus' } }],
    ['a time zone in the wrong case', 'pipeline.deploymentWindow.timeZone', { deploymentWindow: { cron: '* * 9-16 ? * MON-FRI', timeZone: 'europe/berlin' } }],
    ['an offset instead of a zone', 'pipeline.deploymentWindow.timeZone', { deploymentWindow: { cron: '* * 9-16 ? * MON-FRI', timeZone: '+01:00' } }],
    ['a misspelt field', 'pipeline', { deploymentWindows: {} }],
  ])('when the pipeline settings have %s, then the config is rejected naming %s', (_case, fieldPath, pipeline) => {
    // Act
    const problems = problemsOf(pipeline);

    // Assert
    expect(problems.some((problem) => problem.startsWith(`${fieldPath}: `))).toBe(true);
  });

  it.each([
    '* * 9-16 ? * MON-THU',
    '* 0/30 8-17 ? * 2-6 *',
    '* * * ? * SAT,SUN 2026-2030',
    '* * 22-23 L * ?',
    '* * 9 15W JAN-NOV ?',
    '* * 9 31W,L-3 * ?',
    '* * 9 ? * 6L',
    '* * 9 ? * MON#2',
  ])('when the cron is %s, then CodePipeline\'s Quartz syntax accepts it', (cron) => {
    // Assert
    expect(cronProblems(cron)).toEqual([]);
  });

  it('when a cron field is wrong, then the message names that field', () => {
    // Assert
    expect(cronProblems('* 61 9 ? * MON')).toEqual(['the minutes field "61" is not valid (0-59, with , - * /)']);
    expect(cronProblems('* * 9 ? 13 MON')).toEqual(['the month field "13" is not valid (1-12 or JAN-DEC, with , - * /)']);
  });

  it.each([
    ['UTC', true],
    ['Europe/Berlin', true],
    ['America/Argentina/Buenos_Aires', true],
    ['Asia/Kolkata', true],
    ['Etc/GMT+5', true],
    ['Europe/Berlín', false],
    ['', false],
  ])('when the time zone is %s, then isTimeZone says %s', (zone, valid) => {
    // Assert
    expect(isTimeZone(zone)).toBe(valid);
  });
});
