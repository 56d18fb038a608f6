import { failedSection, goal, type SectionResult } from '../report';
import { renderMarkdown, type Machine } from '../render';

const MACHINE: Machine = {
  date: '2026-11-22',
  node: 'v20.20.2',
  cores: 2,
  cpu: 'Test CPU',
  memoryGiB: 24,
  platform: 'linux x64',
  commit: 'abc1234',
  loadAverage: { start: 0.5, end: 1.5 },
};

const FINISHED: SectionResult = {
  id: 'service',
  title: 'Service overhead',
  method: 'autocannon against three servers.',
  tables: [{ caption: 'Throughput', columns: ['server', 'req/s'], rows: [['bare | express', 1000]] }],
  goals: [goal('service / bare Express 5', 0.8512345, '≥ 0.8')],
  notes: ['A finding.'],
  data: {},
};

describe('renderMarkdown', () => {
  it('when every section finished, then the report lists the machine, each goal and each table', () => {
    const report = renderMarkdown(MACHINE, [FINISHED], 90_000);

    expect(report).toContain('2 cores (Test CPU), 24 GiB, linux x64, Node v20.20.2');
    expect(report).toContain('| Service overhead | service / bare Express 5 | 0.851 | ≥ 0.8 | yes |');
    expect(report).toContain('| bare \\| express | 1000 |');
    expect(report).toContain('- A finding.');
  });

  it('when a section failed, then the report keeps the other sections and shows the failure with its error', () => {
    const failed = failedSection({ id: 'cache', title: 'Build cache effects' }, new Error('turbo run build: @example/x#test failed'));

    const report = renderMarkdown(MACHINE, [FINISHED, failed], 90_000);

    expect(failed).toMatchObject({ id: 'cache', goals: [], failed: 'turbo run build: @example/x#test failed' });
    expect(report).toContain('| Service overhead | service / bare Express 5 | 0.851 | ≥ 0.8 | yes |');
    expect(report).toContain('| Build cache effects | the section failed (see below) | | | **no** |');
    expect(report).toMatch(/## Build cache effects\n\nThis section did not finish; no figures\.\n\n\*\*Failed:\*\*\n\n```text\nturbo run build: @example\/x#test failed\n```/);
  });
});
