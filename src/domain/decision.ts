/**
 * Pure: the next owner in strict round-robin order. Starts after the last assigned member in
 * roster order and takes the first eligible one, so a skipped rep keeps their place in the cycle.
 */
export function nextInRotation(roster: string[], eligible: string[], lastAssigned: string | null): string | null {
  if (roster.length === 0 || eligible.length === 0) return null;
  const allowed = new Set(eligible);
  const start = lastAssigned === null ? 0 : roster.indexOf(lastAssigned) + 1;
  for (let i = 0; i < roster.length; i++) {
    const candidate = roster[(start + i) % roster.length];
    if (candidate !== undefined && allowed.has(candidate)) return candidate;
  }
  return null;
}
