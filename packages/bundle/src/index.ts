export { BUNDLE_ARCHIVE, BUNDLE_DIR, createBundle, measure, type BundleOptions, type BundleReport } from './bundle';
export { dependencyClosure, readLockfile, type Lockfile } from './lockfile';
export { resolveCommit } from './commit';
