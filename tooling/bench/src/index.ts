export { goal, fmt, cell, type BenchContext, type Goal, type Section, type SectionResult, type Table } from './report';
export { interleave, ratio, summarize, type Summary, type Variant } from './stats';
export { renderMarkdown, type Machine } from './render';
