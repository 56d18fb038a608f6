/** Summary statistics over repeated samples: the report shows median, min and max, never a single run. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly samples: readonly number[];
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error('summarize: no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, samples: [...samples] };
}

/** `a / b` of two medians, the figure the report compares against a goal. */
export function ratio(a: Summary, b: Summary): number {
  return b.median === 0 ? Number.NaN : a.median / b.median;
}

/**
 * Runs every variant `reps` times, interleaved (A B C, B C A, C A B, ...), so
 * drift on a noisy machine (a neighbour's load, thermal throttling) lands on
 * every variant alike instead of on whichever ran last.
 */
export async function interleave<T>(
  variants: readonly { readonly name: string; readonly run: () => Promise<T> }[],
  reps: number,
  onSample?: (variant: string, rep: number, sample: T) => void,
): Promise<Map<string, T[]>> {
  const results = new Map<string, T[]>(variants.map((v) => [v.name, []]));
  for (let rep = 0; rep < reps; rep += 1) {
    for (let i = 0; i < variants.length; i += 1) {
      const variant = variants[(i + rep) % variants.length]!;
      const sample = await variant.run();
      results.get(variant.name)!.push(sample);
      onSample?.(variant.name, rep, sample);
    }
  }
  return results;
}

export const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);
