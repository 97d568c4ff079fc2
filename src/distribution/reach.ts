/**
 * What a tenant's buyer endpoints may reach and read. Buyer documents are written by a tenant
 * through the API, so an endpoint must not make the worker read the operator's secrets or call
 * into the worker's own network:
 * - a secret is an environment variable named `LEADRELAY_BUYER_<TENANT>_…` (the tenant ID upper-cased,
 *   `-` as `_`): the operator sets those for the tenant; no file, no inline value, no other variable;
 * - a URL may not name a loopback, private, link-local or metadata address, unless the deployment
 *   allows it (the sandbox and tests, whose buyers are local emulators).
 * The host is judged as written: a public name that resolves to a private address is not caught here.
 */

/** The prefix of the environment variables a tenant's buyer secrets may name. */
export function buyerSecretPrefix(tenantId: string): string {
  return `LEADRELAY_BUYER_${tenantId.toUpperCase().replace(/-/g, '_')}_`;
}

/** Why a secret variable is not the tenant's to name, or null. */
export function secretProblem(tenantId: string, envName: string): string | null {
  const prefix = buyerSecretPrefix(tenantId);
  return envName.startsWith(prefix) && envName.length > prefix.length ? null : `must be an environment variable named ${prefix}<NAME>`;
}

const PRIVATE_V4: Array<[number, number]> = [
  [0x00000000, 8], // 0.0.0.0/8
  [0x0a000000, 8], // 10/8
  [0x64400000, 10], // 100.64/10 (carrier-grade NAT)
  [0x7f000000, 8], // 127/8
  [0xa9fe0000, 16], // 169.254/16 (link-local, cloud metadata)
  [0xac100000, 12], // 172.16/12
  [0xc0a80000, 16], // 192.168/16
];

function v4(host: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** Why a URL's host is not a public address, or null. */
export function privateAddressProblem(url: string): string | null {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase().replace(/^\[|\]$/g, '');
  } catch {
    return 'is not a URL';
  }
  const named = host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal') || host.endsWith('.local');
  const ip = v4(host.startsWith('::ffff:') ? host.slice(7) : host);
  const privateV4 = ip !== null && PRIVATE_V4.some(([net, bits]) => ip >>> (32 - bits) === net >>> (32 - bits));
  const privateV6 = host.includes(':') && (host === '::' || host === '::1' || /^f[cd][0-9a-f]{0,2}:/.test(host) || /^fe[89ab][0-9a-f]?:/.test(host));
  return named || privateV4 || privateV6 ? `must be a public address (${host} is loopback, private, link-local or internal)` : null;
}
