// The workshop runner's building blocks. The Markdown link check (./links)
// runs as a test (npm test) and is not re-exported yet.
export { parseSteps, MarkerError, DEFAULT_TIMEOUT_SECONDS, type Step, type RunStep, type BackgroundStep, type StopStep, type ExpectedOutput } from './markers';
export { matchOutput, lineMatches, outputLines, WILDCARD, type MatchResult } from './match';
export { runWorkshop, loadModules, blockEnv, assertPortsFree, WorkshopError, type RunWorkshopOptions, type WorkshopReport, type Teardown } from './runner';
export { configValueText, documentedNames, mapNames, repositoryNames, useExampleDeployConfig, type ExampleConfigUse, type ServiceNames } from './names';
