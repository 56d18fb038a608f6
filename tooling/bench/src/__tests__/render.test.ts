import { failedSection, goal, mergeSections, type Machine, type SectionResult, type SectionRun } from '../report';
import { renderMarkdown } from '../render';

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
    const failed = failedSection({ id: 'loop', title: 'The change loop' }, new Error('first rehearsal: exited with code 1'));

    const report = renderMarkdown(MACHINE, [FINISHED, failed], 90_000);

    expect(failed).toMatchObject({ id: 'loop', goals: [], failed: 'first rehearsal: exited with code 1' });
    expect(report).toContain('| Service overhead | service / bare Express 5 | 0.851 | ≥ 0.8 | yes |');
    expect(report).toContain('| The change loop | the section failed (see below) | | | **no** |');
    expect(report).toMatch(/## The change loop\n\nThis section did not finish; no figures\.\n\n\*\*Failed:\*\*\n\n```text\nfirst rehearsal: exited with code 1\n```/);
  });
});

describe('mergeSections', () => {
  const RUN: SectionRun = { date: '2026-12-05', commit: 'def5678', node: 'v20.20.2', cores: 2, cpu: 'Other CPU', durationMs: 1_500_000, loadAverage: { start: 7.25, end: 3 } };
  const section = (id: string, note: string): SectionResult => ({ ...FINISHED, id, title: id, notes: [note] });

  it('when one section is measured again, then it replaces the saved one in place, marked with its run, and the others are kept as saved', () => {
    const saved = [section('service', 'old service'), section('bundle', 'old bundle'), section('loop', 'old loop')];

    const merged = mergeSections(saved, [section('bundle', 'new bundle')], RUN, ['service', 'reload', 'bundle', 'loop']);

    expect(merged.map((s) => [s.id, s.notes[0], s.run])).toEqual([
      ['service', 'old service', undefined],
      ['bundle', 'new bundle', RUN],
      ['loop', 'old loop', undefined],
    ]);
  });

  it('when a section is new to the saved report, then it joins it in the order of the known sections', () => {
    const merged = mergeSections([section('service', 's'), section('bundle', 'b')], [section('loop', 'l')], RUN, ['service', 'loop', 'bundle']);

    expect(merged.map((s) => s.id)).toEqual(['service', 'loop', 'bundle']);
  });

  it('when the saved report has a section the bench no longer has, then the merged report leaves it out', () => {
    const merged = mergeSections([section('service', 's'), section('retired', 'r'), section('bundle', 'b')], [section('loop', 'l')], RUN, ['service', 'bundle', 'loop']);

    expect(merged.map((s) => s.id)).toEqual(['service', 'bundle', 'loop']);
  });

  it("when a merged section is rendered, then it states its own run's date, commit and load under its heading", () => {
    const [merged] = mergeSections([], [section('loop', 'l')], RUN, ['loop']);

    const report = renderMarkdown(MACHINE, [FINISHED, merged!], 90_000);

    expect(report).toContain('## loop\n\nMeasured in a run of its own, merged into this report: on 2026-12-05 at commit `def5678`, in 25.0 min, 2 cores (Other CPU), Node v20.20.2; 1-minute load average 7.3 at the start, 3.0 at the end.');
    expect(report.split('Measured in a run of its own')).toHaveLength(2);
  });
});
