import { createHmac } from 'node:crypto';
import { constantTimeEqual, requireSecret } from '../accept/hmac';
import type { SourceRequest, Verification } from './types';

/*
 * What the source kinds' signature checks share: HMACs over the raw body's bytes (never a
 * re-serialized body), constant-time comparison, and time windows. Reasons are short codes that
 * go to the log and the 401's message; neither ever carries the body or a secret.
 */

/** The replay window of every scheme that signs a timestamp (HubSpot v3, generic): five minutes either way. */
export const SIGNATURE_WINDOW_MS = 5 * 60 * 1000;

export function hmac(algorithm: 'sha1' | 'sha256', secret: string, parts: Array<string | Buffer>): Buffer {
  requireSecret(secret, 'source secret');
  const mac = createHmac(algorithm, secret);
  // Part by part, so a Buffer body is hashed byte for byte, never decoded and re-encoded.
  for (const part of parts) mac.update(typeof part === 'string' ? Buffer.from(part, 'utf8') : part);
  return mac.digest();
}

/** Constant-time equality of a received signature with the expected one (strings of any length). */
export function sameSignature(given: string, expected: string): boolean {
  return constantTimeEqual(given, expected);
}

export const ok: Verification = { ok: true };
export const fail = (reason: string): Verification => ({ ok: false, reason });

/** A timestamp within the window of `nowMs`, either way (a clock running ahead is refused too). */
export function fresh(timestampMs: number, nowMs: number, windowMs = SIGNATURE_WINDOW_MS): boolean {
  return Number.isFinite(timestampMs) && Math.abs(nowMs - timestampMs) <= windowMs;
}

/** A header's value (names are lower-case in SourceRequest), or undefined when absent or empty. */
export function header(req: SourceRequest, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return value === undefined || value === '' ? undefined : value;
}

/** A plain object's field, or undefined. */
export function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}

/** A string or number ID as a string; anything else (objects, empty strings) is no ID. */
export function idString(value: unknown): string | null {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}
