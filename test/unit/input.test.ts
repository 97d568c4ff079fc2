import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceError } from '@temporalio/client';
import express from 'express';
import { parse as parseYaml } from 'yaml';
import { errorHandler } from '../../src/api/errors';
import { EmailSchema, prototypeKeyPath } from '../../src/domain/input';
import { demoTenant } from '../../sandbox/demoTenant';
import { ConfigError, TenantRegistry } from '../../src/tenants/registry';

describe('email addresses', () => {
  const label = 'a'.repeat(63);
  const issue = (email: string) => {
    const result = EmailSchema.safeParse(email);
    return result.success ? null : result.error.issues.map((i) => i.message);
  };

  it('accepts an address at every RFC limit: 254 characters, a 64-character local part, 63-character labels', () => {
    const email = `${'j'.repeat(64)}@${label}.${label}.${'c'.repeat(58)}.io`;
    expect(email.length).toBe(254);
    expect(EmailSchema.parse(` ${email.toUpperCase()} `)).toBe(email);
  });

  it('refuses an address over a limit, saying which', () => {
    expect(issue(`j@${Array.from({ length: 33 }, () => label).join('.')}.com`)).toEqual(['must be at most 254 characters']);
    expect(issue(`${'j'.repeat(65)}@acme.com`)).toEqual(['must have a local part of at most 64 characters']);
    expect(issue(`jane@${'b'.repeat(64)}.com`)).toEqual(['must have labels of at most 63 characters']);
    expect(issue('not-an-email')).toEqual(['must be a valid email address']);
  });
});

describe('prototype keys', () => {
  it('finds one anywhere in a parsed value and names its path', () => {
    expect(prototypeKeyPath(JSON.parse('{"a":[{"b":{"__proto__":{"x":1}}}]}'))).toBe('a.0.b.__proto__');
    expect(prototypeKeyPath(JSON.parse('{"constructor":1}'))).toBe('constructor');
    expect(prototypeKeyPath(parseYaml('segments:\n  prototype:\n    all: []\n'))).toBe('segments.prototype');
    expect(prototypeKeyPath({ a: [1, { b: 'constructor' }], c: null })).toBeNull();
    // Deep nesting neither overflows the stack nor hides a key.
    expect(prototypeKeyPath(JSON.parse(`${'['.repeat(20_000)}{"__proto__":1}${']'.repeat(20_000)}`))).toBe(`${Array.from({ length: 20_000 }, () => '0').join('.')}.__proto__`);
  });

  it('refuses a tenants file that holds one, naming the file and the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tenants-'));
    const file = join(dir, 'tenants.json');
    const text = JSON.stringify({ tenants: [demoTenant('http://127.0.0.1:4010')] }).replace('"connections":{"crm":{', '"connections":{"crm":{"mappings":{"__proto__":{"polluted":true}},');
    writeFileSync(file, text);
    expect(() => TenantRegistry.fromFile(file)).toThrow(new ConfigError(file, 'tenants.0.connections.crm.mappings.__proto__', 'is a prototype key (__proto__, constructor, prototype), which is never accepted'));
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('answers to Temporal errors', () => {
  async function statusFor(err: unknown): Promise<{ status: number; code: string; logged: number }> {
    const logged: unknown[] = [];
    const app = express();
    app.get('/', () => {
      throw err;
    });
    app.use(errorHandler((e) => logged.push(e)));
    const server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      return { status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code, logged: logged.length };
    } finally {
      server.close();
    }
  }
  const grpc = (code: number) => Object.assign(new Error('refused'), { code, details: 'refused', metadata: {} });

  it('answers 503 (retry) only when Temporal did not answer; a request it refuses for good is an internal error', async () => {
    expect(await statusFor(new ServiceError('Failed to start', { cause: grpc(14) }))).toEqual({ status: 503, code: 'unavailable', logged: 1 });
    expect(await statusFor(grpc(4))).toEqual({ status: 503, code: 'unavailable', logged: 1 });
    expect(await statusFor(new ServiceError('Failed to start', { cause: grpc(3) }))).toEqual({ status: 500, code: 'internal', logged: 1 });
    expect(await statusFor(grpc(7))).toEqual({ status: 500, code: 'internal', logged: 1 });
    // A query while no worker polls the lead's task queue: the worker comes back, so retry.
    expect(await statusFor(grpc(9))).toEqual({ status: 503, code: 'unavailable', logged: 1 });
  });
});
