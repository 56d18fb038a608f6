import { fmt, type Machine, type SectionResult } from './report';

const row = (cells: readonly (string | number)[]) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
const table = (columns: readonly string[]) => [row(columns), row(columns.map(() => '---'))];
const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;
const load = ({ start, end }: Machine['loadAverage']) => `1-minute load average ${start.toFixed(1)} at the start, ${end.toFixed(1)} at the end.`;

/** The Markdown report: the machine, a goals summary, then one table per section. */
export function renderMarkdown(machine: Machine, sections: readonly SectionResult[], durationMs: number): string {
  const lines: string[] = [
    '# Benchmark report',
    '',
    `Written by \`npm run bench\` on ${machine.date} at commit \`${machine.commit}\`, in ${minutes(durationMs)}.`,
    `Machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node}; ${load(machine.loadAverage)}`,
    '',
    'Absolute times on a shared 2-core machine are noisy: every comparison runs its variants interleaved in one run and reports the median with (min–max), and the ratios are what to read. Raw samples: [results.json](results.json).',
    '',
    '## Goals',
    '',
    ...table(['section', 'figure', 'value', 'goal', 'met']),
    ...sections.flatMap((s) => s.goals.map((g) => row([s.title, g.name, fmt(g.value), g.target, g.met ? 'yes' : '**no**']))),
    ...sections.filter((s) => s.failed !== undefined).map((s) => `${row([s.title, 'the section failed (see below)'])} | | **no** |`),
  ];
  for (const section of sections) {
    lines.push('', `## ${section.title}`, '');
    if (section.run !== undefined) {
      const { date, commit, durationMs: ms, node, cores, cpu, loadAverage } = section.run;
      lines.push(`Measured in a run of its own, merged into this report: on ${date} at commit \`${commit}\`, in ${minutes(ms)}, ${cores} cores (${cpu}), Node ${node}; ${load(loadAverage)}`, '');
    }
    lines.push(section.method, '');
    if (section.failed !== undefined) lines.push('**Failed:**', '', '```text', section.failed, '```', '');
    for (const t of section.tables) lines.push(...(t.caption ? [`**${t.caption}**`, ''] : []), ...table(t.columns), ...t.rows.map(row), '');
    lines.push(...section.notes.map((note) => `- ${note}`));
  }
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}
