import { devServerArgs } from '../../src/temporal/devServer';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/searchAttributes';

const base = { cli: 'temporal', port: 7299, uiPort: 8299, logFile: '/tmp/t.log' };
const pairs = (args: string[], flag: string) => args.flatMap((a, i) => (a === flag ? [args[i + 1]] : []));

describe('the dev server command line', () => {
  it('persists to SQLite with the WAL pragmas when given a file', () => {
    const args = devServerArgs({ ...base, dbFile: '/data/t.sqlite' });
    expect(pairs(args, '--db-filename')).toEqual(['/data/t.sqlite']);
    expect(pairs(args, '--sqlite-pragma')).toEqual(['journal_mode=WAL', 'synchronous=OFF']);
  });

  it('runs in memory without a file', () => {
    const args = devServerArgs(base);
    expect(args).not.toContain('--db-filename');
    expect(args).not.toContain('--sqlite-pragma');
  });

  it('registers every search attribute the workflows upsert', () => {
    expect(pairs(devServerArgs(base), '--search-attribute').sort()).toEqual(
      Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => `${name}=${type}`).sort(),
    );
  });

  it('enables updates and update-with-start, which the pool entities need', () => {
    expect(pairs(devServerArgs(base), '--dynamic-config-value')).toEqual(
      expect.arrayContaining(['frontend.enableUpdateWorkflowExecution=true', 'frontend.enableExecuteMultiOperation=true', 'history.maxInFlightUpdates=1000']),
    );
  });

  it('serves the Web UI on its port unless headless, and binds to loopback', () => {
    expect(pairs(devServerArgs(base), '--ui-port')).toEqual(['8299']);
    expect(devServerArgs({ ...base, headless: true })).toContain('--headless');
    expect(pairs(devServerArgs(base), '--ip')).toEqual(['127.0.0.1']);
  });
});
