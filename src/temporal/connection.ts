import { Client, Connection, type ClientInterceptors } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from './searchAttributes';

const INDEXED_TYPES: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Text: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
};

/** Tries `attempt` every 250 ms until it succeeds, fails in a way `retryable` does not accept, or the time is up. */
export async function retryUntil<T>(what: string, timeoutMs: number, attempt: () => Promise<T>, retryable: (err: unknown) => boolean = () => true): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await attempt();
    } catch (err) {
      if (!retryable(err)) throw err;
      last = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`${what} failed for ${timeoutMs} ms: ${(last as Error)?.message ?? String(last)}`);
}

export interface TemporalConnections {
  client: Client;
  connection: Connection;
  native: NativeConnection;
  close(): Promise<void>;
}

/**
 * Connects the client and the worker's native connection, waiting until the namespace answers.
 * The client encodes and decodes through `dataConverter` (the payload codec, see codec.ts);
 * `interceptors` are the client's (tracing, see src/tracing/tracing.ts).
 */
export async function connectTemporal(address: string, namespace: string, dataConverter: DataConverter, timeoutMs = 60_000, interceptors?: ClientInterceptors): Promise<TemporalConnections> {
  const connection = await retryUntil(`connecting to Temporal at ${address}`, timeoutMs, () => Connection.connect({ address }));
  await retryUntil(`describing namespace ${namespace}`, timeoutMs, () => connection.workflowService.describeNamespace({ namespace }));
  const native = await NativeConnection.connect({ address });
  return {
    client: new Client({ connection, namespace, dataConverter, ...(interceptors ? { interceptors } : {}) }),
    connection,
    native,
    close: async () => {
      await native.close();
      await connection.close();
    },
  };
}

/** Registers any of our search attributes the namespace lacks (a no-op on the dev server, which registers them at start). */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set([...Object.keys(existing.customAttributes ?? {}), ...Object.keys(existing.systemAttributes ?? {})]);
  const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => !known.has(name));
  if (missing.length === 0) return [];
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, INDEXED_TYPES[type] ?? INDEXED_TYPES['Keyword']!])),
  });
  return missing.map(([name]) => name);
}
