import path from 'node:path';
import { stringify } from 'yaml';

/**
 * The local Temporal cluster of `npm run cluster` (scripts/cluster.ts): the Temporal Server built
 * from its Go module at a pinned release, on PostgreSQL for persistence and visibility. What the
 * script runs and what docker-compose.temporal.yml runs are the same settings: the shard count
 * below, the dynamic config file in deploy/temporal/dynamicconfig, the search attributes of
 * searchAttributes.ts (test/unit/docker-compose.test.ts checks that they agree).
 */

/** The Temporal Server release (`go.temporal.io/server`) the cluster is built from. */
export const CLUSTER_SERVER_VERSION = '1.32.2';
/**
 * The Web UI server (`github.com/temporalio/ui-server/v2`): the UI the pinned Temporal CLI's dev
 * server embeds (`temporal --version` of CLI 1.9.1 says UI 2.54.1).
 */
export const CLUSTER_UI_VERSION = '2.54.1';
/**
 * History shards: fixed when the cluster's database is created, never changed afterwards.
 * Several, so a lead's workflow and its pool's entity workflow are usually on different shards,
 * as in any production cluster (the dev server has one).
 */
export const CLUSTER_HISTORY_SHARDS = 4;
/** The dynamic config file both the cluster and docker-compose.temporal.yml load, from the project root. */
export const CLUSTER_DYNAMIC_CONFIG = path.join('deploy', 'temporal', 'dynamicconfig', 'development.yaml');
/** The SQL plugin of the persistence and visibility stores (PostgreSQL 12 or later). */
export const CLUSTER_SQL_PLUGIN = 'postgres12';
export const CLUSTER_DATABASES = { persistence: 'temporal', visibility: 'temporal_visibility' } as const;
/**
 * Custom Keyword search attributes SQL visibility can hold per namespace: the PostgreSQL schema
 * has ten Keyword columns (Keyword01..Keyword10 in schema/postgresql/v12/visibility/schema.sql),
 * and so has the dev server's SQLite. A namespace refuses an eleventh.
 */
export const CLUSTER_SQL_KEYWORD_COLUMNS = 10;

export interface ClusterPorts {
  /** gRPC frontend: what clients and workers dial. */
  frontend: number;
  frontendHttp: number;
  history: number;
  matching: number;
  worker: number;
  /** Membership (ringpop) ports, one per service. */
  membership: { frontend: number; history: number; matching: number; worker: number };
}

/**
 * Every port of the cluster from its frontend port, laid out as Temporal's own development
 * configs do around 7233 (history +1, matching +2, worker +6, HTTP +10; membership 300 below).
 */
export function clusterPorts(frontend: number): ClusterPorts {
  if (!Number.isInteger(frontend) || frontend < 1024 || frontend > 65_000) throw new Error(`cluster frontend port ${frontend}: use 1024..65000`);
  return {
    frontend,
    frontendHttp: frontend + 10,
    history: frontend + 1,
    matching: frontend + 2,
    worker: frontend + 6,
    membership: { frontend: frontend - 300, history: frontend - 299, matching: frontend - 298, worker: frontend - 294 },
  };
}

/** Every port the cluster's server binds (for a start-up check that they are free). */
export function allClusterPorts(ports: ClusterPorts): number[] {
  return [ports.frontend, ports.frontendHttp, ports.history, ports.matching, ports.worker, ...Object.values(ports.membership)];
}

export interface ClusterServerConfig {
  ports: ClusterPorts;
  postgres: { host: string; port: number; user: string; password: string };
  /** Absolute path of the dynamic config file. */
  dynamicConfigFile: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

/** The server's configuration file (`server --config-file`): all services in one process, everything on loopback. */
export function clusterServerConfig(options: ClusterServerConfig): Record<string, unknown> {
  const { ports, postgres } = options;
  const store = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: CLUSTER_SQL_PLUGIN,
      databaseName,
      connectAddr: `${postgres.host}:${postgres.port}`,
      connectProtocol: 'tcp',
      user: postgres.user,
      password: postgres.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const rpc = (grpcPort: number, membershipPort: number, extra: Record<string, unknown> = {}) => ({ rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra } });
  return {
    log: { stdout: true, level: options.logLevel ?? 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: CLUSTER_HISTORY_SHARDS,
      datastores: {
        'postgres-default': store(CLUSTER_DATABASES.persistence, 20),
        'postgres-visibility': store(CLUSTER_DATABASES.visibility, 10),
      },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services: {
      frontend: rpc(ports.frontend, ports.membership.frontend, { httpPort: ports.frontendHttp }),
      history: rpc(ports.history, ports.membership.history),
      matching: rpc(ports.matching, ports.membership.matching),
      worker: rpc(ports.worker, ports.membership.worker),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `127.0.0.1:${ports.frontend}` } },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: options.dynamicConfigFile, pollInterval: '10s' },
  };
}

export function clusterServerConfigYaml(options: ClusterServerConfig): string {
  return `# Written by scripts/cluster.ts at every start; edit src/temporal/cluster.ts instead.\n${stringify(clusterServerConfig(options))}`;
}
