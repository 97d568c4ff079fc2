import { appendErasure, erasuresPage, type ErasureRecord } from '../../src/protocol/erasures';

/** The erasure log's bookkeeping (the entity workflow's handlers), as pure functions. */

const run = (leadId: string, runId: string) => ({ workflowId: `lead:t1:${leadId}`, runId });
const A = 'ld_aaaaaaaaaaaaaaaaaaaaaaaa';
const B = 'ld_bbbbbbbbbbbbbbbbbbbbbbbb';

describe('the erasure log', () => {
  it('numbers records in order and keeps who, when and which runs', () => {
    const log: ErasureRecord[] = [];
    const first = appendErasure(log, { leadId: A, erased: [run(A, 'r1')], actor: 'dpo@t1' }, '2030-01-01T00:00:00.000Z', 10);
    const second = appendErasure(log, { leadId: B, erased: [run(B, 'r2'), run(B, 'r3')], actor: 'api-key:t1' }, '2030-01-01T00:01:00.000Z', 10);
    expect(first).toEqual({ seq: 1, leadId: A, erased: [run(A, 'r1')], at: '2030-01-01T00:00:00.000Z', actor: 'dpo@t1' });
    expect(second.seq).toBe(2);
    expect(log).toHaveLength(2);
  });

  it('answers a retry of the same erasure with its record, adding runs it lacked, keeping its time and actor', () => {
    const log: ErasureRecord[] = [];
    appendErasure(log, { leadId: A, erased: [run(A, 'r1')], actor: 'dpo@t1' }, '2030-01-01T00:00:00.000Z', 10);
    const retry = appendErasure(log, { leadId: A, erased: [run(A, 'r1'), run(A, 'r2')], actor: 'someone-else' }, '2030-01-02T00:00:00.000Z', 10);
    expect(retry).toEqual({ seq: 1, leadId: A, erased: [run(A, 'r1'), run(A, 'r2')], at: '2030-01-01T00:00:00.000Z', actor: 'dpo@t1' });
    expect(log).toHaveLength(1);
  });

  it('records a new erasure when the same lead ID came back with new runs (the same Idempotency-Key sent again)', () => {
    const log: ErasureRecord[] = [];
    appendErasure(log, { leadId: A, erased: [run(A, 'r1')], actor: 'dpo@t1' }, '2030-01-01T00:00:00.000Z', 10);
    const again = appendErasure(log, { leadId: A, erased: [run(A, 'r9')], actor: 'dpo@t1' }, '2030-02-01T00:00:00.000Z', 10);
    expect(again.seq).toBe(2);
    expect(erasuresPage(log, { leadId: A }).erasures.map((r) => r.seq)).toEqual([2, 1]);
  });

  it('keeps at most `keep` records, the oldest out, and goes on numbering', () => {
    const log: ErasureRecord[] = [];
    for (let i = 0; i < 5; i++) appendErasure(log, { leadId: `ld_${String(i).repeat(24)}`, erased: [run(`ld_${String(i).repeat(24)}`, `r${i}`)], actor: 'a' }, '2030-01-01T00:00:00.000Z', 3);
    expect(log.map((r) => r.seq)).toEqual([3, 4, 5]);
  });

  it('pages newest first with a cursor, filtered by lead', () => {
    const log: ErasureRecord[] = [];
    for (let i = 0; i < 5; i++) appendErasure(log, { leadId: i % 2 ? A : B, erased: [run(i % 2 ? A : B, `r${i}`)], actor: 'a' }, '2030-01-01T00:00:00.000Z', 10);
    const first = erasuresPage(log, { limit: 2 });
    expect(first.erasures.map((r) => r.seq)).toEqual([5, 4]);
    expect(first.nextBefore).toBe(4);
    const second = erasuresPage(log, { limit: 2, before: first.nextBefore! });
    expect(second.erasures.map((r) => r.seq)).toEqual([3, 2]);
    const last = erasuresPage(log, { limit: 2, before: second.nextBefore! });
    expect(last).toEqual({ erasures: [log[0]], nextBefore: null });
    expect(erasuresPage(log, { leadId: A }).erasures.map((r) => r.seq)).toEqual([4, 2]);
    expect(erasuresPage(log, { limit: 100_000 }).erasures).toHaveLength(5);
    expect(erasuresPage([], {})).toEqual({ erasures: [], nextBefore: null });
  });
});
