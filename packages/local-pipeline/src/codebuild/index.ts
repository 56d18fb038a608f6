// The "build" step of the local rehearsal: a CodeBuild emulator for buildspec 0.2.
export { runBuildspec, stopsBuild } from './run';
export type { BuildOptions, BuildPhaseName, BuildResult, PhaseResult, PhaseStatus } from './run';
export { parseBuildspec, PHASE_NAMES, REPORT_FILE_FORMATS } from './buildspec';
export type {
  ArtifactsSpec,
  Buildspec,
  BuildspecEnv,
  BuildspecPhase,
  CacheSpec,
  FileSetSpec,
  OnFailure,
  ParseBuildspecOptions,
  PhaseName,
  ReportFileFormat,
  ReportGroupSpec,
} from './buildspec';
export { BuildspecError } from './errors';
export type { BuildspecProblem } from './errors';
export { copyWorkingTree } from './source';
export type { CopyOptions, CopyResult } from './source';
export { PARENT_ENV_ALLOW_LIST, PARENT_ENV_ALLOW_PREFIXES } from './env';
