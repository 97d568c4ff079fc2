/** Nearest-rank percentile of an ascending array (NaN when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

/** Milliseconds right-aligned in 9 characters, e.g. "  1093 ms". */
export const fmt = (ms: number) => `${Number.isNaN(ms) ? '—'.padStart(6) : ms.toFixed(0).padStart(6)} ms`;
