/**
 * Repetitions of a minute-long variant (a cold turbo pipeline, a full npm ci,
 * a cold npm test): one per 3 requested repetitions, at least one. At the
 * default 3 each runs once, which keeps the build sections within minutes on
 * 2 cores; `--reps 6` gives them two samples each.
 */
export function minuteLongReps(reps: number): number {
  return Math.max(1, Math.floor(reps / 3));
}
