import { logger, setLogLevel, temporalLogger } from '../../src/log';

/** The JSON lines written to stdout and stderr while `run` runs. */
function captured(run: () => void): { stdout: Array<Record<string, unknown>>; stderr: Array<Record<string, unknown>> } {
  const lines = { stdout: [] as string[], stderr: [] as string[] };
  const spies = (['stdout', 'stderr'] as const).map((name) =>
    jest.spyOn(process[name], 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines[name].push(String(chunk));
      return true;
    }),
  );
  try {
    run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  const parse = (written: string[]) => written.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  return { stdout: parse(lines.stdout), stderr: parse(lines.stderr) };
}

afterEach(() => setLogLevel('info'));

describe('log', () => {
  it('writes one JSON line per entry, with level, time, component, message and fields: info to stdout, warnings and errors to stderr', () => {
    const log = logger('stack');
    const out = captured(() => {
      log.info('registered search attributes', { added: 'LeadOwner,LeadTier' });
      log.warn('error while stopping', { error: 'boom' });
      log.error('worker stopped with an error');
    });
    expect(out.stdout).toEqual([{ level: 'info', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), component: 'stack', msg: 'registered search attributes', added: 'LeadOwner,LeadTier' }]);
    expect(out.stderr).toEqual([
      expect.objectContaining({ level: 'warn', component: 'stack', msg: 'error while stopping', error: 'boom' }),
      expect.objectContaining({ level: 'error', component: 'stack', msg: 'worker stopped with an error' }),
    ]);
  });

  it('setLogLevel applies to loggers made before it', () => {
    const log = logger('early');
    const quiet = captured(() => log.debug('not at info'));
    expect(quiet.stdout).toEqual([]);
    setLogLevel('debug');
    expect(captured(() => log.debug('at debug')).stdout).toEqual([expect.objectContaining({ level: 'debug', msg: 'at debug' })]);
    setLogLevel('error');
    const out = captured(() => {
      log.info('hidden');
      log.warn('hidden too');
      log.error('shown');
    });
    expect(out).toEqual({ stdout: [], stderr: [expect.objectContaining({ level: 'error', msg: 'shown' })] });
  });

  it("gives the Temporal SDK a Logger on the same output: its levels, its metadata as fields, errors with message and stack", () => {
    const log = temporalLogger();
    const out = captured(() => {
      log.info('Worker state changed', { sdkComponent: 'worker', state: 'RUNNING' });
      log.trace('not at info');
      log.log('WARN', 'Activity failed', { error: new Error('upstream 503'), activityType: 'notifyOwner' });
    });
    expect(out.stdout).toEqual([expect.objectContaining({ level: 'info', component: 'temporal', msg: 'Worker state changed', sdkComponent: 'worker', state: 'RUNNING' })]);
    expect(out.stderr).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: 'Activity failed',
        activityType: 'notifyOwner',
        error: expect.objectContaining({ type: 'Error', message: 'upstream 503', stack: expect.stringContaining('upstream 503') }),
      }),
    ]);
  });
});
