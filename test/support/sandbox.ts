import { startSandbox, type RunningSandbox, type SandboxOptions } from '../../sandbox/server';

/**
 * A sandbox over real loopback HTTP for the file's tests: started before them, closed after.
 * The returned object forwards to the running sandbox, so tests use it like the sandbox itself.
 */
export function useSandbox(options: SandboxOptions & { port?: number; host?: string }): RunningSandbox {
  let running: RunningSandbox | null = null;
  beforeAll(async () => {
    running = await startSandbox(options);
  });
  afterAll(async () => {
    await running?.close();
  });
  return new Proxy({} as RunningSandbox, {
    get(_target, key: keyof RunningSandbox) {
      if (!running) throw new Error('the sandbox starts in beforeAll');
      return running[key];
    },
  });
}

/** An upstream answer as the connector received it. */
export interface RecordedAnswer {
  status: number;
  headers: Headers;
  body: unknown;
  /** Epoch ms when the answer arrived. */
  at: number;
}

/** A fetch that keeps every answer (status, headers, parsed body), to compare failures with what the provider said. */
export function recordingFetch(): { fetch: typeof fetch; answers: RecordedAnswer[] } {
  const answers: RecordedAnswer[] = [];
  const recording: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const text = await res.clone().text();
    let body: unknown;
    try {
      body = text ? (JSON.parse(text) as unknown) : undefined;
    } catch {
      body = text;
    }
    answers.push({ status: res.status, headers: res.headers, body, at: Date.now() });
    return res;
  };
  return { fetch: recording, answers };
}
