import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { DEV_SERVER_DYNAMIC_CONFIG } from '../../src/temporal/devServer';
import { CLUSTER_DYNAMIC_CONFIG, CLUSTER_HISTORY_SHARDS, CLUSTER_SQL_KEYWORD_COLUMNS, CLUSTER_SQL_PLUGIN, clusterPorts, clusterServerConfig } from '../../src/temporal/cluster';

import { SEARCH_ATTRIBUTES } from '../../src/temporal/searchAttributes';
import { DEFAULT_RETENTION_DAYS } from '../../src/temporal/retention';
import { EnvSchema } from '../../src/config';

/**
 * Static checks on docker-compose.temporal.yml, the cluster-style local Temporal stack.
 * Docker is not needed: the file is parsed and its wiring checked (images, dependencies,
 * addresses, mounts, and the admin-tools script that registers search attributes).
 */

const repoRoot = path.resolve(__dirname, '..', '..');
const composePath = path.join(repoRoot, 'docker-compose.temporal.yml');
const composeText = readFileSync(composePath, 'utf8');

/** Working directory of the temporalio/auto-setup image; relative config paths resolve against it. */
const TEMPORAL_IMAGE_WORKDIR = '/etc/temporal';

type Dict = Record<string, unknown>;

interface Service {
  image?: string;
  environment?: Dict | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  ports?: unknown[];
  volumes?: unknown[];
  networks?: string[] | Dict;
  healthcheck?: { test?: string | string[] };
  entrypoint?: string | string[];
  command?: string | string[];
}

interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Dict | null;
  networks?: Dict | null;
}

function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function loadCompose(): ComposeFile {
  const doc: unknown = parse(composeText);
  if (!isDict(doc) || !isDict(doc.services)) {
    throw new Error('docker-compose.temporal.yml has no services map');
  }
  return doc as unknown as ComposeFile;
}

const compose = loadCompose();

function service(name: string): Service {
  const svc = compose.services[name];
  if (!svc) throw new Error(`service ${name} is not defined`);
  return svc;
}

/** Compose accepts environment as a map or as a list of KEY=VALUE strings. */
function envOf(svc: Service): Record<string, string> {
  const env = svc.environment;
  if (!env) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const eq = entry.indexOf('=');
        return eq === -1 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** Compose accepts depends_on as a list of names or as a map of name -> { condition }. */
function dependsOn(svc: Service): Record<string, string | undefined> {
  const deps = svc.depends_on;
  if (!deps) return {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, undefined]));
  return Object.fromEntries(Object.entries(deps).map(([name, spec]) => [name, spec?.condition]));
}

interface PublishedPort {
  host: string;
  container: string;
}

/** Short syntax "[ip:]host:container[/proto]" or long syntax { published, target }. */
function publishedPorts(svc: Service): PublishedPort[] {
  return (svc.ports ?? []).map((port) => {
    if (isDict(port)) return { host: String(port.published ?? ''), container: String(port.target ?? '') };
    const parts = String(port).replace(/\/(tcp|udp)$/, '').split(':');
    const container = parts[parts.length - 1] ?? '';
    const host = parts.length >= 2 ? (parts[parts.length - 2] ?? '') : '';
    return { host, container };
  });
}

interface Mount {
  type: 'bind' | 'volume';
  source: string;
  target: string;
}

/** Short syntax "source:target[:mode]" or long syntax { type, source, target }. */
function mountsOf(svc: Service): Mount[] {
  return (svc.volumes ?? []).map((vol) => {
    if (isDict(vol)) {
      return {
        type: vol.type === 'bind' ? 'bind' : 'volume',
        source: String(vol.source ?? ''),
        target: String(vol.target ?? ''),
      };
    }
    const parts = String(vol).split(':');
    if (parts.length === 1) return { type: 'volume', source: '', target: parts[0] ?? '' }; // anonymous volume
    const source = parts[0] ?? '';
    const isPath = /^[./~]/.test(source);
    return { type: isPath ? 'bind' : 'volume', source, target: parts[1] ?? '' };
  });
}

function networksOf(svc: Service): string[] {
  const nets = svc.networks;
  if (!nets) return [];
  return Array.isArray(nets) ? nets : Object.keys(nets);
}

function healthcheckText(svc: Service): string {
  const test = svc.healthcheck?.test;
  if (test === undefined) return '';
  return Array.isArray(test) ? test.join(' ') : test;
}

/** Splits "name:tag" (ignoring a registry host:port) into its repository and tag. */
function splitImage(image: string): { repository: string; tag: string | undefined } {
  const withoutDigest = image.split('@')[0] ?? image;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const lastColon = withoutDigest.lastIndexOf(':');
  if (lastColon <= lastSlash) return { repository: withoutDigest, tag: undefined };
  return { repository: withoutDigest.slice(0, lastColon), tag: withoutDigest.slice(lastColon + 1) };
}

/** The admin-tools script with compose's `$$` escape undone, as the container's shell sees it. */
function adminToolsScript(): string {
  const { command } = service('temporal-admin-tools');
  const text = Array.isArray(command) ? command.join('\n') : (command ?? '');
  return text.replace(/\$\$/g, '$');
}

/**
 * Finds the `temporal operator search-attribute create` invocation in the admin-tools script
 * (joining backslash-continued lines) and returns its flags in order.
 */
function searchAttributeCreateFlags(): Array<[flag: string, value: string]> {
  const joined = adminToolsScript().replace(/\\\n\s*/g, ' ');
  const line = joined.split('\n').find((l) => l.includes('search-attribute create'));
  if (!line) throw new Error('admin-tools script never runs `temporal operator search-attribute create`');
  const invocation = line.slice(line.indexOf('search-attribute create') + 'search-attribute create'.length);
  const tokens = invocation.split(/\s+/).filter(Boolean);
  const flags: Array<[string, string]> = [];
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i] ?? '';
    if (!token.startsWith('--')) continue;
    const [flag, inline] = token.split('=', 2) as [string, string | undefined];
    const value = inline ?? tokens[i + 1] ?? '';
    if (inline === undefined) i += 1;
    // Strip shell noise that can trail the last argument, e.g. `Keyword 2>&1);`
    flags.push([flag, value.replace(/[;)"']+$/, '')]);
  }
  return flags;
}

describe('docker-compose.temporal.yml', () => {
  test('parses as YAML with a services map', () => {
    expect(isDict(compose.services)).toBe(true);
  });

  test('defines postgresql, temporal, temporal-admin-tools and temporal-ui', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['postgresql', 'temporal', 'temporal-admin-tools', 'temporal-ui']),
    );
  });

  test('pins every image to an explicit tag that is not latest', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      expect({ name, image: svc.image }).toEqual({ name, image: expect.any(String) });
      const { tag } = splitImage(svc.image ?? '');
      expect({ name, tag }).toEqual({ name, tag: expect.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/) });
      expect({ name, tag }).not.toEqual({ name, tag: 'latest' });
    }
  });

  test('uses the Temporal images the stack was designed for', () => {
    expect(splitImage(service('postgresql').image ?? '').repository).toBe('postgres');
    expect(splitImage(service('temporal').image ?? '').repository).toBe('temporalio/auto-setup');
    expect(splitImage(service('temporal-admin-tools').image ?? '').repository).toBe('temporalio/admin-tools');
    expect(splitImage(service('temporal-ui').image ?? '').repository).toBe('temporalio/ui');
  });

  test('runs admin-tools from the same server release as the temporal service', () => {
    const serverTag = splitImage(service('temporal').image ?? '').tag ?? '';
    const adminTag = splitImage(service('temporal-admin-tools').image ?? '').tag ?? '';
    expect(serverTag).toMatch(/^1\.\d+\.\d+$/);
    // admin-tools tags look like "1.29.1" or "1.29.1-tctl-1.18.4-cli-1.5.0"
    expect(adminTag === serverTag || adminTag.startsWith(`${serverTag}-`)).toBe(true);
  });

  test('starts temporal only once postgresql reports healthy via pg_isready', () => {
    expect(dependsOn(service('temporal')).postgresql).toBe('service_healthy');
    expect(healthcheckText(service('postgresql'))).toContain('pg_isready');
  });

  test('stores postgresql data in a named volume', () => {
    const dataMount = mountsOf(service('postgresql')).find((m) => m.target === '/var/lib/postgresql/data');
    expect(dataMount).toEqual(expect.objectContaining({ type: 'volume', source: expect.stringMatching(/\S/) }));
  });

  test('takes postgres credentials from the environment with dev defaults', () => {
    const pg = envOf(service('postgresql'));
    expect(pg.POSTGRES_USER).toMatch(/^\$\{POSTGRES_USER:-[^}]+\}$/);
    expect(pg.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:-[^}]+\}$/);
  });

  test('connects temporal to the postgresql service with postgres12 and the same credentials', () => {
    const env = envOf(service('temporal'));
    const pg = envOf(service('postgresql'));
    expect(env.DB).toBe('postgres12');
    expect(env.DB_PORT).toBe('5432');
    expect(env.POSTGRES_SEEDS).toBe('postgresql');
    expect(compose.services[env.POSTGRES_SEEDS ?? '']).toBeDefined();
    expect(env.POSTGRES_USER).toBe(pg.POSTGRES_USER);
    expect(env.POSTGRES_PWD).toBe(pg.POSTGRES_PASSWORD);
  });

  test('health-checks the temporal frontend with a tool the image ships', () => {
    expect(healthcheckText(service('temporal'))).toMatch(/temporal operator cluster health|tctl/);
  });

  test('points the UI at the temporal service on port 7233', () => {
    const env = envOf(service('temporal-ui'));
    expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
    const [host] = (env.TEMPORAL_ADDRESS ?? '').split(':');
    expect(compose.services[host ?? '']).toBeDefined();
    expect(env.TEMPORAL_CORS_ORIGINS).toBe('http://localhost:3000');
  });

  test('publishes the frontend on 7233 and the UI on 8080', () => {
    expect(publishedPorts(service('temporal'))).toContainEqual({ host: '7233', container: '7233' });
    expect(publishedPorts(service('temporal-ui'))).toContainEqual({ host: '8080', container: '8080' });
  });

  test('starts the UI and admin-tools only after temporal is healthy', () => {
    expect(dependsOn(service('temporal-ui')).temporal).toBe('service_healthy');
    expect(dependsOn(service('temporal-admin-tools')).temporal).toBe('service_healthy');
  });

  test('hands the admin-tools script to sh -c as a single argument', () => {
    const { entrypoint, command } = service('temporal-admin-tools');
    expect(entrypoint).toEqual(['/bin/sh', '-c']);
    // A plain string command would be split into words and sh -c would only run the first one.
    expect(Array.isArray(command) && command.length === 1).toBe(true);
  });

  test('registers every Leadrelay search attribute with its declared type on the default namespace', () => {
    const flags = searchAttributeCreateFlags();
    const names = flags.filter(([flag]) => flag === '--name').map(([, value]) => value);
    const types = flags.filter(([flag]) => flag === '--type').map(([, value]) => value);
    expect(names).toHaveLength(types.length);
    const registered = Object.fromEntries(names.map((n, i) => [n, types[i]]));

    expect(registered).toEqual(SEARCH_ATTRIBUTES);
    for (const type of Object.values(registered)) expect(type).toBe('Keyword');
    expect(flags).toContainEqual(['--namespace', 'default']);
    expect(flags).toContainEqual(['--address', 'temporal:7233']);
  });

  test('sets the default namespace’s retention explicitly, from LEADRELAY_RETENTION_DAYS with npm start’s default', () => {
    const admin = service('temporal-admin-tools');
    // Compose's `${VAR:-default}`: the same variable and default as npm start (src/config.ts).
    const configured = /^\$\{LEADRELAY_RETENTION_DAYS:-(\d+)\}$/.exec(envOf(admin).LEADRELAY_RETENTION_DAYS ?? '');
    expect(configured).not.toBeNull();
    expect(Number(configured![1])).toBe(DEFAULT_RETENTION_DAYS);
    expect(EnvSchema.parse({}).LEADRELAY_RETENTION_DAYS).toBe(DEFAULT_RETENTION_DAYS);

    const script = adminToolsScript();
    const update = script.split('\n').find((l) => l.includes('namespace update'));
    expect(update).toBeDefined();
    expect(update).toMatch(/--namespace default\b/);
    expect(update).toMatch(/--address temporal:7233\b/);
    // The value handed to --retention, as the shell computes it.
    const variable = /--retention "\$(\w+)"/.exec(update!)?.[1];
    expect(variable).toBeDefined();
    const assignment = new RegExp(`^\\s*${variable}="\\$\\(\\(LEADRELAY_RETENTION_DAYS \\* 24\\)\\)h"$`, 'm');
    expect(script).toMatch(assignment);
    // Set before anything else runs against the namespace, and a refusal fails the job.
    expect(script.indexOf('namespace update')).toBeLessThan(script.indexOf('search-attribute create'));
    expect(script).toMatch(/if ! temporal operator namespace update[^\n]*; then\n[^\n]*\n\s*exit 1/);
  });

  test('treats already-registered search attributes as success so the job is re-runnable', () => {
    expect(adminToolsScript()).toMatch(/already exists/);
  });

  test('mounts a dynamic config file that exists and enables the update and multi-operation APIs', () => {
    const temporal = service('temporal');
    const configured = envOf(temporal).DYNAMIC_CONFIG_FILE_PATH ?? '';
    expect(configured).not.toBe('');
    const containerPath = path.posix.resolve(TEMPORAL_IMAGE_WORKDIR, configured);

    // Either the file itself or one of its parent directories is bind-mounted from the repo.
    const mount = mountsOf(temporal).find(
      (m) => m.type === 'bind' && (containerPath === m.target || containerPath.startsWith(`${m.target}/`)),
    );
    expect(mount).toBeDefined();
    const hostPath = path.resolve(
      repoRoot,
      mount?.source ?? '',
      path.posix.relative(mount?.target ?? '', containerPath),
    );
    // The file npm run cluster loads too (src/temporal/cluster.ts).
    expect(path.relative(repoRoot, hostPath)).toBe(CLUSTER_DYNAMIC_CONFIG);
    expect(existsSync(hostPath)).toBe(true);

    const dynamicConfig: unknown = parse(readFileSync(hostPath, 'utf8'));
    expect(isDict(dynamicConfig)).toBe(true);
    // The cluster gets every server setting the embedded dev server is started with.
    const expected: Record<string, unknown> = { ...DEV_SERVER_DYNAMIC_CONFIG, 'system.forceSearchAttributesCacheRefreshOnRead': true };
    for (const [key, value] of Object.entries(expected)) {
      const entries = (dynamicConfig as Dict)[key];
      expect({ key, entries }).toEqual({ key, entries: [{ value, constraints: {} }] });
    }
  });

  describe('agrees with npm run cluster (scripts/cluster.ts)', () => {
    const cluster = clusterServerConfig({
      ports: clusterPorts(7233),
      postgres: { host: '127.0.0.1', port: 55432, user: 'temporal', password: 'x' },
      dynamicConfigFile: path.join(repoRoot, CLUSTER_DYNAMIC_CONFIG),
    }) as { persistence: { numHistoryShards: number; datastores: Record<string, { sql: { pluginName: string } }> }; dynamicConfigClient: { filepath: string } };

    test('runs as many history shards', () => {
      expect(cluster.persistence.numHistoryShards).toBe(CLUSTER_HISTORY_SHARDS);
      expect(CLUSTER_HISTORY_SHARDS).toBeGreaterThan(1);
      expect(envOf(service('temporal')).NUM_HISTORY_SHARDS).toBe(String(CLUSTER_HISTORY_SHARDS));
    });

    test('keeps persistence and visibility in PostgreSQL through the same SQL plugin', () => {
      expect(Object.values(cluster.persistence.datastores).map((d) => d.sql.pluginName)).toEqual([CLUSTER_SQL_PLUGIN, CLUSTER_SQL_PLUGIN]);
      expect(envOf(service('temporal')).DB).toBe(CLUSTER_SQL_PLUGIN);
    });

    test('loads the dynamic config file the compose file mounts', () => {
      expect(path.relative(repoRoot, cluster.dynamicConfigClient.filepath)).toBe(CLUSTER_DYNAMIC_CONFIG);
      const mounted = mountsOf(service('temporal')).find((m) => m.type === 'bind');
      expect(path.relative(repoRoot, path.resolve(repoRoot, mounted?.source ?? ''))).toBe(path.dirname(CLUSTER_DYNAMIC_CONFIG));
    });

    test('registers the search attributes from the same list (ensureSearchAttributes registers SEARCH_ATTRIBUTES, as the compose file does above)', () => {
      const script = readFileSync(path.join(repoRoot, 'scripts', 'cluster.ts'), 'utf8');
      expect(script).toMatch(/ensureSearchAttributes\(connection, NAMESPACE\)/);
    });

    test('fits the search attributes in SQL visibility’s columns', () => {
      const keywords = Object.values(SEARCH_ATTRIBUTES).filter((type) => type === 'Keyword');
      expect(keywords.length).toBeLessThanOrEqual(CLUSTER_SQL_KEYWORD_COLUMNS);
    });
  });

  test('every depends_on names a defined service', () => {
    const defined = new Set(Object.keys(compose.services));
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const dep of Object.keys(dependsOn(svc))) {
        expect({ service: name, dependsOn: dep, defined: defined.has(dep) }).toEqual({
          service: name,
          dependsOn: dep,
          defined: true,
        });
      }
    }
  });

  test('every named volume a service mounts is declared at the top level', () => {
    const declared = new Set(Object.keys(compose.volumes ?? {}));
    const used = Object.values(compose.services)
      .flatMap(mountsOf)
      .filter((m) => m.type === 'volume' && m.source !== '');
    expect(used.length).toBeGreaterThan(0);
    for (const { source } of used) expect({ volume: source, declared: declared.has(source) }).toEqual({
      volume: source,
      declared: true,
    });
  });

  test('attaches every service to the single declared network', () => {
    const networks = Object.keys(compose.networks ?? {});
    expect(networks).toHaveLength(1);
    for (const [name, svc] of Object.entries(compose.services)) {
      expect({ name, networks: networksOf(svc) }).toEqual({ name, networks });
    }
  });

  test('documents how to point Leadrelay at the cluster instead of the embedded dev server', () => {
    const header = composeText.split('\n').filter((line) => line.startsWith('#')).join('\n');
    expect(header).toContain('TEMPORAL_ADDRESS=localhost:7233 LEADRELAY_TEMPORAL=external npm start');
    expect(header).toMatch(/dev server/);
  });
});
