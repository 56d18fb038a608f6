/**
 * Where a process's CPU time goes, from the `.cpuprofile` file that
 * `node --cpu-prof` writes at exit: self time per sampled function, summed by
 * who owns the code (an npm package, Node's internals, the service itself,
 * the garbage collector).
 */

/** The parts of V8's CPU profile format read here. */
export interface CpuProfile {
  readonly nodes: readonly { readonly id: number; readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number } }[];
  /** Microseconds, on the same clock as the samples. */
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  /** Microseconds since the previous sample, one per sample. */
  readonly timeDeltas: readonly number[];
}

export interface Share {
  readonly name: string;
  readonly ms: number;
  /** Of the busy (non-idle) time. */
  readonly share: number;
}

export interface ProfileSummary {
  /** Sampled time the process was not idle, in ms. */
  readonly busyMs: number;
  /** Self time by owner, largest first. */
  readonly owners: readonly Share[];
  /** The functions with the most self time, largest first, as `name (owner)`. */
  readonly functions: readonly Share[];
}

/** Who owns the code at `url`: the npm package, Node's internals, V8 itself, or the application. */
export function ownerOf(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return 'garbage collector';
  if (url === '') return 'V8 (native, builtins)';
  if (url.startsWith('node:')) return 'Node.js internals';
  const packages = url.split('/node_modules/');
  if (packages.length > 1) {
    const parts = packages[packages.length - 1]!.split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1] ?? ''}` : parts[0]!;
  }
  return 'application code';
}

/**
 * Self time per owner and per function; `(idle)` and `(root)` samples are
 * left out. With `lastMs`, only the samples of the profile's last `lastMs`
 * count: the load, not the process's start (loading modules, reading config).
 */
export function summarizeProfile(profile: CpuProfile, options: { readonly topFunctions?: number; readonly lastMs?: number } = {}): ProfileSummary {
  const topFunctions = options.topFunctions ?? 10;
  const from = options.lastMs === undefined ? -Infinity : profile.endTime - options.lastMs * 1000;
  let at = profile.startTime;
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const owners = new Map<string, number>();
  const functions = new Map<string, number>();
  let busyUs = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id);
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < from) return;
    if (!frame || frame.functionName === '(idle)' || frame.functionName === '(root)') return;
    busyUs += delta;
    const owner = ownerOf(frame.url, frame.functionName);
    owners.set(owner, (owners.get(owner) ?? 0) + delta);
    const file = frame.url.split('/').pop() ?? '';
    const fn = frame.functionName || '(anonymous)';
    const name = fn.startsWith('(') && file === '' ? fn : `${fn} (${owner}${file ? `, ${file}` : ''})`;
    functions.set(name, (functions.get(name) ?? 0) + delta);
  });
  const shares = (map: Map<string, number>) =>
    [...map.entries()].map(([name, us]) => ({ name, ms: us / 1000, share: busyUs === 0 ? 0 : us / busyUs })).sort((a, b) => b.ms - a.ms);
  return { busyMs: busyUs / 1000, owners: shares(owners), functions: shares(functions).slice(0, topFunctions) };
}
