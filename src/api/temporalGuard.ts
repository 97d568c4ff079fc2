import type { RequestHandler, Response } from 'express';
import type { Reachability, TemporalReachability } from '../temporal/reachability';
import type { ApiContext } from './context';
import { ApiError, sendError } from './errors';

/** A request still waiting on Temporal after this long makes the API ask whether Temporal answers at all. */
export const SUSPECT_AFTER_MS = 1_000;

function refuse(res: Response, reachability: Reachability): void {
  if (res.headersSent) return;
  sendError(
    res,
    new ApiError(503, 'unavailable', `The workflow service cannot be reached (${reachability.detail}); retry the request (with the same Idempotency-Key for a new lead)`),
  );
}

/**
 * In front of every route that calls Temporal:
 * - its Temporal calls get the request's deadline (`temporalTimeoutMs`);
 * - while Temporal is known to be unreachable, the request is answered 503 at once (with
 *   `Retry-After`), without calling it; once that knowledge is older than a second, the request
 *   first asks again (one short probe shared by all requests);
 * - a request still waiting after `SUSPECT_AFTER_MS` triggers that probe, and is answered 503 as
 *   soon as the probe fails, instead of waiting out its deadline; unless other requests got
 *   answers meanwhile (a burst: Temporal is there, just busy), which keeps every request waiting
 *   for its own answer. A handler that finishes after its 503 has nothing left to answer; its
 *   write was idempotent, so the client's retry is safe.
 */
export function temporalGuard(ctx: Pick<ApiContext, 'client' | 'temporalTimeoutMs'>, reachability: TemporalReachability): RequestHandler {
  return async (_req, res, next) => {
    const latest = reachability.knownUnreachable() ? reachability.latest : reachability.latest?.reachable === false ? await reachability.check() : null;
    if (latest && !latest.reachable) {
      refuse(res, latest);
      return;
    }
    const suspect = setTimeout(() => {
      // Other requests are being answered: Temporal is there and busy, so this one waits its turn.
      if (reachability.answeredWithin(2 * SUSPECT_AFTER_MS)) return;
      void reachability.check().then((now) => {
        if (!now.reachable) refuse(res, now);
      });
    }, SUSPECT_AFTER_MS);
    res.once('close', () => clearTimeout(suspect));
    // An answer below 500 from a guarded route is evidence the service answers (the routes call
    // Temporal; one refused before it did errs on the side of waiting, never of refusing).
    res.once('finish', () => {
      if (res.statusCode < 500) reachability.answeredNow();
    });
    void ctx.client.connection.withDeadline(Date.now() + ctx.temporalTimeoutMs, async () => next());
  };
}
