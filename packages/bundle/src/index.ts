export { createBundle, measure, type BundleOptions, type BundleReport } from './bundle';
export { dependencyClosure, readLockfile, type Lockfile } from './lockfile';
