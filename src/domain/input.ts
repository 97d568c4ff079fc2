import { z } from 'zod';

/*
 * Rules every piece of outside input meets before it reaches a workflow, a search attribute or a
 * CRM: a length cap on every string, no control characters, and no key that means an object's
 * prototype. A value that breaks one is the client's mistake (400 naming it), never a 5xx later.
 */

/** C0 controls and DEL: never in a name, an ID or a filter (NUL makes the visibility store fail). */
const CONTROL = /[\u0000-\u001f\u007f]/;
/** The same, except tab and line breaks, which free text (a message, a reason) may hold. */
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export const NO_CONTROL_CHARACTERS = 'must not contain control characters';

/** A single-line string: at most `max` characters (after trimming), no control characters. */
export function line(max: number) {
  return z.string().trim().max(max).refine((s) => !CONTROL.test(s), NO_CONTROL_CHARACTERS);
}

/** A map key or identifier as given (not trimmed): 1 to `max` characters, no control characters. */
export function key(max: number) {
  return z.string().min(1).max(max).refine((s) => !CONTROL.test(s), NO_CONTROL_CHARACTERS);
}

/** Free text (tabs and line breaks allowed), at most `max` characters; trimmed first when asked. */
export function text(max: number, options: { trim?: boolean } = {}) {
  return (options.trim ? z.string().trim() : z.string()).max(max).refine((s) => !CONTROL_IN_TEXT.test(s), NO_CONTROL_CHARACTERS);
}

/** Whether a string holds a control character (tab and line breaks included). */
export function hasControlCharacter(value: string): boolean {
  return CONTROL.test(value);
}

/** RFC 1035: a domain is at most 253 characters, each dot-separated label at most 63. */
export function domainProblem(domain: string): string | null {
  if (domain.length > 253) return 'must be at most 253 characters';
  if (domain.split('.').some((label) => label.length > 63)) return 'must have labels of at most 63 characters';
  return null;
}

/** RFC 5321: an address is at most 254 characters, its local part at most 64, its domain a valid one. */
export function emailProblem(email: string): string | null {
  if (email.length > 254) return 'must be at most 254 characters';
  const at = email.lastIndexOf('@');
  if (at > 64) return 'must have a local part of at most 64 characters';
  return domainProblem(email.slice(at + 1));
}

/** An email address: lower case, valid, and within the RFC limits (254 / 64 / 253 / 63). */
export const EmailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .superRefine((email, ctx) => {
    const problem = emailProblem(email);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, abort: true });
  })
  .pipe(z.email({ message: 'must be a valid email address' }));

/** Keys that name an object's prototype: a parsed object holding one is refused, not merged. */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
export const PROTOTYPE_KEY_MESSAGE = 'is a prototype key (__proto__, constructor, prototype), which is never accepted';

/**
 * The dotted path of the first prototype key anywhere in a parsed value (JSON, YAML, a config
 * file), or null. Iterative, so deeply nested input cannot exhaust the stack.
 */
export function prototypeKeyPath(value: unknown): string | null {
  interface Node {
    value: unknown;
    key: string;
    parent: Node | null;
  }
  const pending: Node[] = [{ value, key: '', parent: null }];
  for (let node = pending.pop(); node; node = pending.pop()) {
    if (typeof node.value !== 'object' || node.value === null) continue;
    const array = Array.isArray(node.value);
    for (const [key, child] of Object.entries(node.value)) {
      const found: Node = { value: child, key, parent: node };
      if (!array && PROTOTYPE_KEYS.has(key)) {
        const path: string[] = [];
        for (let at: Node | null = found; at?.parent; at = at.parent) path.unshift(at.key);
        return path.join('.');
      }
      pending.push(found);
    }
  }
  return null;
}
