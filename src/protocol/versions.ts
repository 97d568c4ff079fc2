/**
 * Versioned documents kept by an entity workflow (policies, catalog documents): a new version only
 * when the content changed, and a bounded list kept (older versions stay in earlier histories).
 * Pure, so workflows import it.
 */
export function appendVersion<V extends { version: number; hash: string }>(versions: V[], hash: string, build: (version: number) => V, keep: number): V {
  const latest = versions[versions.length - 1];
  // Storing the same content twice is not a new version.
  if (latest && latest.hash === hash) return latest;
  const version = build((latest?.version ?? 0) + 1);
  versions.push(version);
  if (versions.length > keep) versions.splice(0, versions.length - keep);
  return version;
}
