/**
 * Shared, mutable process state: set by the shutdown handler, read by the
 * health endpoint and the drain middleware.
 */
export interface Lifecycle {
  draining: boolean;
}

export function createLifecycle(): Lifecycle {
  return { draining: false };
}
