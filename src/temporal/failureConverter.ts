import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failures' messages and stack traces are encoded as a payload (so the codec encrypts them too):
 * an error message may quote lead data. Loaded by the client, the worker and, inside the workflow
 * bundle, by workflow code (see `failureConverterPath` in src/worker.ts).
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
