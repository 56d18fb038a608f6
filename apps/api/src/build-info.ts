import { readFileSync } from 'node:fs';
import path from 'node:path';

import { z } from 'zod';

/** What build is running. Written into the bundle by the packaging step. */
export interface BuildInfo {
  readonly version: string;
  readonly commit: string;
  readonly builtAt: string | undefined;
}

const buildInfoFile = z.object({
  version: z.string().min(1),
  commit: z.string().min(1),
  builtAt: z.string().optional(),
});

const packageFile = z.object({ version: z.string().min(1) });

/**
 * Reads `build-info.json` from the app's root (one level above `dist/`). When
 * it is absent, as in development, the version comes from package.json and the
 * commit is "unknown". A build-info file that exists but is malformed is an
 * error: a deployed instance must not report a build it cannot vouch for.
 */
export function readBuildInfo(appRoot: string): BuildInfo {
  const buildInfoPath = path.join(appRoot, 'build-info.json');
  let text: string | undefined;
  try {
    text = readFileSync(buildInfoPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (text !== undefined) {
    const parsed = buildInfoFile.safeParse(safeJson(text));
    if (!parsed.success) throw new Error(`build-info.json is malformed: ${parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ')}`);
    return { version: parsed.data.version, commit: parsed.data.commit, builtAt: parsed.data.builtAt };
  }
  const pkg = packageFile.parse(JSON.parse(readFileSync(path.join(appRoot, 'package.json'), 'utf8')));
  return { version: pkg.version, commit: 'unknown', builtAt: undefined };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
