import { isGrpcServiceError, type ConnectionLike } from '@temporalio/client';

export interface Reachability {
  reachable: boolean;
  /** The address when it answered; what went wrong when it did not. */
  detail: string;
  /** Date.now() when the probe ended. */
  checkedAt: number;
}

export interface ReachabilityOptions {
  /** How long a probe may take before Temporal counts as unreachable. */
  probeTimeoutMs: number;
  /** For how long a failed probe is believed without probing again. */
  freshMs: number;
}

/** Two attempts of 800 ms fit in /healthz's 2-second deadline. */
export const DEFAULT_REACHABILITY: ReachabilityOptions = { probeTimeoutMs: 800, freshMs: 1_000 };

/** What `withTimeout` rejects with when time runs out. */
export class TimeoutError extends Error {}

/** Settles like `promise`, or rejects with a TimeoutError saying `message` after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Does Temporal answer on this connection, right now? A probe is one GetSystemInfo call with a
 * short deadline, made on the same connection (so it sees what that connection's calls see), one
 * at a time however many callers ask. Without it, a call to an unreachable server waits out its
 * whole deadline while the client library retries.
 */
export class TemporalReachability {
  private last: Reachability | null = null;
  private probing: Promise<Reachability> | null = null;
  /** Date.now() when a call on this connection last got an answer (see `answeredNow`). */
  private lastAnswerAt = 0;
  /** Probe calls not yet settled (one can outlive its answer while the client library retries). */
  private readonly calls = new Set<Promise<unknown>>();

  constructor(
    private readonly probe: () => Promise<unknown>,
    private readonly label: string,
    readonly options: ReachabilityOptions = DEFAULT_REACHABILITY,
  ) {}

  /** Probes `connection` (the API's client connection, or a worker's native connection). */
  static of(connection: ConnectionLike, label: string, options: ReachabilityOptions = DEFAULT_REACHABILITY): TemporalReachability {
    return new TemporalReachability(() => connection.withDeadline(Date.now() + options.probeTimeoutMs, () => connection.workflowService.getSystemInfo({})), label, options);
  }

  /** The latest probe's answer, if any. */
  get latest(): Reachability | null {
    return this.last;
  }

  /**
   * A call on this connection just got its answer: Temporal is there, however slow. Under a burst
   * the server (and this process) can take longer than a probe's deadline to answer anything, and
   * that is load, not an outage; evidence of answers keeps it from being mistaken for one.
   */
  answeredNow(now = Date.now()): void {
    this.lastAnswerAt = Math.max(this.lastAnswerAt, now);
  }

  /** A call got an answer within the last `ms`. */
  answeredWithin(ms: number, now = Date.now()): boolean {
    return now - this.lastAnswerAt < ms;
  }

  /** The latest probe failed, recently enough to be believed without asking again. */
  knownUnreachable(now = Date.now()): boolean {
    return this.last !== null && !this.last.reachable && now - this.last.checkedAt < this.options.freshMs;
  }

  /** Probes now, or joins the probe under way. Never rejects; takes at most about `probeTimeoutMs`. */
  check(): Promise<Reachability> {
    const started = Date.now();
    const attempt = () => withTimeout(this.track(this.probe()), this.options.probeTimeoutMs + 100, `no answer within ${this.options.probeTimeoutMs} ms`);
    // A refused connection is an outage at once; a probe that only ran out of time is asked once
    // more, so one stall of this process (or one slow answer) is not taken for an outage.
    this.probing ??= attempt()
      .catch((err: unknown) => (timedOut(err) && this.lastAnswerAt < started ? attempt() : Promise.reject(err)))
      .then(
        (): Reachability => ({ reachable: true, detail: this.label, checkedAt: Date.now() }),
        (err: unknown): Reachability =>
          // Another call got its answer while this probe waited: busy, not gone.
          answered(err) || this.lastAnswerAt >= started
            ? { reachable: true, detail: this.label, checkedAt: Date.now() }
            : { reachable: false, detail: `${this.label} did not answer: ${describe(err)}`, checkedAt: Date.now() },
      )
      .then((result) => {
        this.last = result;
        this.probing = null;
        return result;
      });
    return this.probing;
  }

  /** Resolves once no probe call is left: close the connection only then (a retry on a closed channel throws). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.calls]);
  }

  private track(call: Promise<unknown>): Promise<unknown> {
    const settled = call.then(
      () => undefined,
      () => undefined,
    );
    this.calls.add(settled);
    void settled.then(() => this.calls.delete(settled));
    return call;
  }
}

/** gRPC codes of a call that got no answer from the server: CANCELLED, DEADLINE_EXCEEDED, UNAVAILABLE. */
const NO_ANSWER = new Set([1, 4, 14]);

/** The probe ran out of time (its own timer, or the call's DEADLINE_EXCEEDED) rather than being refused a connection. */
function timedOut(err: unknown): boolean {
  return err instanceof TimeoutError || (isGrpcServiceError(err) && err.code === 4);
}

/** A refusal (say PERMISSION_DENIED) is still an answer: the server is there. */
function answered(err: unknown): boolean {
  return isGrpcServiceError(err) && !NO_ANSWER.has(err.code);
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // The client wraps gRPC errors; the cause says what happened on the wire.
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error && cause.message !== err.message ? `${err.message} (${cause.message})` : err.message;
}
