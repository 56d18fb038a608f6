import type { Config } from 'jest';

/** The folder every workspace writes its JUnit file into: <repo>/reports/junit. */
export declare const JUNIT_DIR: string;

/**
 * Jest settings for a workspace; `name` names its JUnit file, `roots` (default ['src']) are its code folders,
 * `maxWorkers` (default: jest's, cores - 1) the test files run at once.
 */
export declare function createJestConfig(options: { name: string; testTimeout?: number; roots?: string[]; maxWorkers?: number | string }): Config;
