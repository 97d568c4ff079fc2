import { readFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { disputeCsv, disputeLog } from '../../src/audit/distribution';
import { HISTORY_FIXTURES } from '../support/fixtures';

/** Real histories recorded by test/integration/distribution.test.ts with RECORD_FIXTURES=1. */
function fixture(name: string) {
  const { workflowId, history } = JSON.parse(readFileSync(path.join(HISTORY_FIXTURES, `${name}.json`), 'utf8')) as { workflowId: string; history: string };
  const events = temporal.api.history.v1.History.decode(Buffer.from(history, 'base64')).events;
  return { workflowId, leadId: workflowId.split(':').pop() as string, events };
}

describe('dispute log from history', () => {
  it('names the supplier, every ping and post with the raw answer, and masks contact details in what was sent', () => {
    const f = fixture('distribution-auction-sold');
    const log = disputeLog(f.leadId, f.workflowId, f.events, null);
    expect(log).toMatchObject({ campaignId: 'auto-insurance-us', supplierId: 'acme-leads' });
    expect(log.entries[0]).toMatchObject({ kind: 'received' });
    expect(log.entries.find((e) => e.kind === 'campaign')?.summary).toMatch(/^campaign auto-insurance-us version 1; buyers /);
    const pings = log.entries.filter((e) => e.kind === 'ping');
    expect(pings.map((p) => p.buyerId).sort()).toEqual(['fastbid', 'slowbid', 'xmlbuyer']);
    expect(pings.find((p) => p.buyerId === 'slowbid')?.delivery).toMatchObject({ outcome: 'error', error: { type: 'timeout' } });
    const post = log.entries.find((e) => e.kind === 'post')!;
    expect(post).toMatchObject({ buyerId: 'fastbid', delivery: { outcome: 'accepted', price: 12 } });
    // The history holds the lead's email as sent; the log shows it masked.
    const started = f.events[0]!.workflowExecutionStartedEventAttributes!;
    expect(Buffer.from(started.input!.payloads![0]!.data!).toString()).toMatch(/jane\.[a-z0-9]+@example\.com/);
    expect(post.delivery!.request.body).not.toMatch(/jane\.[a-z0-9]+@example\.com/);
    expect(post.delivery!.request.body).toMatch(/"email":"j\*\*\*/);
    expect(log.entries.some((e) => e.kind === 'sold' && e.buyerId === 'fastbid')).toBe(true);
    expect(log.entries.filter((e) => e.kind === 'answer').map((e) => e.summary)).toEqual(['supplier told: sold to fastbid, payout 3']);
    const csv = disputeCsv(log).split('\r\n');
    expect(csv[0]).toBe('at,kind,buyer,outcome,latency_ms,http_status,summary');
    expect(csv.some((row) => row.startsWith(`${post.at},post,fastbid,accepted,`))).toBe(true);
  });

  it("shows a buyer's Retry-After wait between the two posts, and returns with who decided them", () => {
    const rl = fixture('distribution-rate-limited-waited');
    const waited = disputeLog(rl.leadId, rl.workflowId, rl.events, null).entries.filter((e) => ['post', 'wait'].includes(e.kind));
    expect(waited.map((e) => e.kind)).toEqual(['post', 'wait', 'post']);
    expect(waited[0]!.delivery).toMatchObject({ outcome: 'error', reason: 'rate_limited' });
    expect(waited[1]!.summary).toMatch(/ratelimited asked to wait \(Retry-After 1000 ms\)/);

    const ret = fixture('distribution-returned-approved');
    const returns = disputeLog(ret.leadId, ret.workflowId, ret.events, null).entries.filter((e) => e.kind === 'return' || e.kind === 'refund');
    expect(returns.map((e) => e.summary)).toEqual([
      'formbuyer returns the lead: "not interested" (by buyer-portal)',
      'return pending',
      'return by formbuyer approved by ops@acme: checked the recording',
      'formbuyer: cap and budget given back (6)',
    ]);
  });

  it('masks the contact details of a lead posted against a bid, which only the post carried', () => {
    const f = fixture('distribution-ping-post');
    const log = disputeLog(f.leadId, f.workflowId, f.events, null);
    const post = log.entries.find((e) => e.kind === 'post')!;
    expect(post.delivery!.request.body).toMatch(/"email":"j\*\*\*/);
    expect(post.delivery!.request.body).not.toMatch(/jane\.[a-z0-9]+@example\.com/);
    // The pings before it carried no contact details at all.
    expect(log.entries.filter((e) => e.kind === 'ping').every((e) => !/example\.com/.test(e.delivery!.request.body))).toBe(true);
  });
});
