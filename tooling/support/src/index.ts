export { freePort, freePorts } from './ports';
export { git, type GitOptions } from './git';
export { endLeftovers, processesMentioning, processTable, running, type FoundProcess, type MentioningOptions, type ProcessEntry } from './processes';
export { failureReasons, loadUntil, startLoad, type LoadOptions, type LoadRun, type LoadSummary, type Outcome } from './load';
