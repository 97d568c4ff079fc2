import type { RunningDevServer } from '../../src/temporal/devServer';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __temporalDevServer?: RunningDevServer }).__temporalDevServer?.stop();
}
