import { fmt, type SectionResult } from './report';

export interface Machine {
  readonly date: string;
  readonly node: string;
  readonly cores: number;
  readonly cpu: string;
  readonly memoryGiB: number;
  readonly platform: string;
  readonly commit: string;
  /** 1-minute load average when the run started and ended: how busy the machine was besides the bench. */
  readonly loadAverage: { readonly start: number; readonly end: number };
}

const escape = (value: string | number) => String(value).replace(/\|/g, '\\|');

/** The Markdown report: the machine, a goals summary, then one table per section. */
export function renderMarkdown(machine: Machine, sections: readonly SectionResult[], durationMs: number): string {
  const lines: string[] = [
    '# Benchmark report',
    '',
    `Written by \`npm run bench\` on ${machine.date} at commit \`${machine.commit}\`, in ${(durationMs / 60_000).toFixed(1)} min.`,
    `Machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node}; 1-minute load average ${machine.loadAverage.start.toFixed(1)} at the start, ${machine.loadAverage.end.toFixed(1)} at the end.`,
    '',
    'Absolute times on a shared 2-core machine are noisy: every comparison runs its variants interleaved in one run and reports the median with (min–max), and the ratios are what to read. Raw samples: [results.json](results.json).',
    '',
    '## Goals',
    '',
    '| section | figure | value | goal | met |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const section of sections) {
    for (const g of section.goals) lines.push(`| ${escape(section.title)} | ${escape(g.name)} | ${fmt(g.value)} | ${escape(g.target)} | ${g.met ? 'yes' : '**no**'} |`);
  }
  for (const section of sections.filter((s) => s.failed !== undefined)) {
    lines.push(`| ${escape(section.title)} | the section failed (see below) | | | **no** |`);
  }
  for (const section of sections) {
    lines.push('', `## ${section.title}`, '');
    if (section.run !== undefined) {
      const { date, commit, durationMs: ms, node, cores, cpu, loadAverage } = section.run;
      lines.push(
        `Measured in a run of its own, merged into this report: on ${date} at commit \`${commit}\`, in ${(ms / 60_000).toFixed(1)} min, ${cores} cores (${cpu}), Node ${node}; 1-minute load average ${loadAverage.start.toFixed(1)} at the start, ${loadAverage.end.toFixed(1)} at the end.`,
        '',
      );
    }
    lines.push(section.method, '');
    if (section.failed !== undefined) lines.push('**Failed:**', '', '```text', section.failed, '```', '');
    for (const table of section.tables) {
      if (table.caption) lines.push(`**${table.caption}**`, '');
      lines.push(`| ${table.columns.map(escape).join(' | ')} |`, `| ${table.columns.map(() => '---').join(' | ')} |`);
      for (const row of table.rows) lines.push(`| ${row.map(escape).join(' | ')} |`);
      lines.push('');
    }
    for (const note of section.notes) lines.push(`- ${note}`);
  }
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}
