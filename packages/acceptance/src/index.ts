export {
  UNKNOWN_ROUTE,
  commitMatches,
  formatCheck,
  normalizeBaseUrl,
  runAcceptance,
  type AcceptanceOptions,
  type AcceptanceResult,
  type CheckResult,
} from './check';
export { runCli } from './cli';
