export * from './codebuild';
export { deployBlueGreen, readState, stopRehearsal, SLOTS, type BlueGreenOptions, type BlueGreenResult, type Slot } from './codedeploy/blue-green';
export { parseAppSpec, readAppSpec, AppSpecError, type AppSpec } from './codedeploy/appspec';
export { runLifecycle, type LifecycleResult, type LocalInstance } from './codedeploy/agent';
export { createProxy } from './codedeploy/proxy';
