export * from './build';
export { deployBlueGreen, readState, stopRehearsal, SLOTS, type BlueGreenOptions, type BlueGreenResult, type Slot } from './deploy/blue-green';
export { parseAppSpec, readAppSpec, AppSpecError, type AppSpec } from './deploy/appspec';
export { runLifecycle, type LifecycleResult, type LocalInstance } from './deploy/lifecycle';
export { createProxy } from './deploy/proxy';
