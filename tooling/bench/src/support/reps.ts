/**
 * Repetitions of a minute-long variant (a rehearsal until serving): one per 3
 * requested repetitions, at least one. At the default 3 each runs once, which
 * keeps the loop section within minutes on 2 cores; `--reps 6` gives it two
 * samples each.
 */
export function minuteLongReps(reps: number): number {
  return Math.max(1, Math.floor(reps / 3));
}
