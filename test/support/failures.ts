import { ApplicationFailure } from '@temporalio/common';
import type { UpstreamFailureDetails } from '../../src/connectors/failure';

/** The ApplicationFailure a call ends with; fails the test when it succeeds or throws anything else. */
export async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }
  throw new Error('expected the call to fail');
}

/** What an upstream failure carries into history: provider, operation, status, reason, wait, rate limit. */
export function detailsOf(failure: ApplicationFailure): UpstreamFailureDetails {
  return (failure.details ?? [])[0] as UpstreamFailureDetails;
}
