/**
 * What every section returns, and how the report renders it. The JSON file
 * keeps every sample; the Markdown report shows one table per section.
 */
import type { Summary } from './stats';

export interface Goal {
  /** What is compared, e.g. "createApp / bare Express 5 throughput". */
  readonly name: string;
  readonly value: number;
  /** The goal as text, e.g. "≥ 0.8" or "= 0". */
  readonly target: string;
  readonly met: boolean;
}

export interface Table {
  readonly caption?: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | number)[])[];
}

export interface SectionResult {
  /** Stable id, also the key in results.json: service, reload, switch, bundle, loop. */
  readonly id: string;
  readonly title: string;
  /** One or two sentences: what was measured and how (load settings, repetitions). */
  readonly method: string;
  readonly tables: readonly Table[];
  readonly goals: readonly Goal[];
  /** Findings worth a sentence in the report (what closed a gap, what a figure means). */
  readonly notes: readonly string[];
  /** Every raw figure, for results.json. */
  readonly data: Readonly<Record<string, Summary | number | string | boolean | readonly unknown[] | Record<string, unknown>>>;
  /** Set when the section could not finish: its error, as the report shows it. */
  readonly failed?: string;
  /** Set when the section was measured in a run of its own and merged into a report of another run (`--merge`). */
  readonly run?: SectionRun;
}

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

/** When and where a merged section was measured: the report's header describes another run. */
export type SectionRun = Pick<Machine, 'date' | 'commit' | 'node' | 'cores' | 'cpu' | 'loadAverage'> & { readonly durationMs: number };

/**
 * The sections of a saved report with `fresh` measured again: each fresh one
 * replaces the saved one of its id (marked with `run`), or joins them, in the
 * order of `order` (the bench's section ids). A saved section the bench no
 * longer has is left out: nothing could measure it again.
 */
export function mergeSections(saved: readonly SectionResult[], fresh: readonly SectionResult[], run: SectionRun, order: readonly string[]): SectionResult[] {
  const byId = new Map<string, SectionResult>(saved.map((s) => [s.id, s]));
  for (const section of fresh) byId.set(section.id, { ...section, run });
  return order.flatMap((id) => byId.get(id) ?? []);
}

/** What the report keeps of a section that threw: its title and the error, so the other sections' figures are not lost. */
export function failedSection(section: { readonly id: string; readonly title: string }, error: unknown): SectionResult {
  const message = error instanceof Error ? error.message : String(error);
  return { id: section.id, title: section.title, method: 'This section did not finish; no figures.', tables: [], goals: [], notes: [], data: { failed: true }, failed: message };
}

export interface BenchContext {
  readonly repoRoot: string;
  /** Repetitions per variant; sections may scale it down for minute-long variants and say so in `method`. */
  readonly reps: number;
  /** Progress on stderr: every long step says what it is doing. */
  readonly log: (line: string) => void;
  /** A fresh directory in the run's scratch folder under the OS temp dir, removed when the run ends. */
  readonly tempDir: (prefix: string) => string;
  /** The environment the bench was started with (only the CLI reads process.env). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface Section {
  readonly id: string;
  readonly title: string;
  readonly run: (ctx: BenchContext) => Promise<SectionResult>;
}

export function goal(name: string, value: number, target: string): Goal {
  const match = /^(≤|≥|=)\s*([\d.]+)$/.exec(target);
  if (!match) throw new Error(`goal "${name}": target must look like "≤ 0.2", "≥ 0.8" or "= 0", got "${target}"`);
  const bound = Number(match[2]);
  const met = match[1] === '≤' ? value <= bound : match[1] === '≥' ? value >= bound : value === bound;
  return { name, value, target, met };
}

/** Formats a number for a table: integers as they are, others to 3 significant digits. */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

/** "median (min–max)" for a table cell. */
export function cell(summary: Summary, unit = ''): string {
  const u = unit ? ` ${unit}` : '';
  return `${fmt(summary.median)}${u} (${fmt(summary.min)}–${fmt(summary.max)})`;
}
