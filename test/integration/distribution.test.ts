import { startDistributionStack, uniqueLead, type DistributionStack } from '../support/distribution';

let d: DistributionStack;

afterEach(async () => {
  await d?.close();
});

describe('auction (ping-post)', () => {
  it('sells to the best net bid after a parallel ping, and the dispute log holds each buyer answer', async () => {
    d = await startDistributionStack({ buyers: ['fastbid', 'slowbid', 'xmlbuyer', 'formbuyer'] });
    const res = await d.supplier('POST', '/v1/campaigns/auto-insurance-us/leads', uniqueLead());
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'sold', soldTo: ['fastbid'], payout: 3, currency: 'USD' });
    const leadId = res.body.leadId as string;
    const audit = await d.t.request('GET', `/v1/leads/${leadId}/audit`);
    expect(audit.status).toBe(200);
    const kinds = audit.body.entries.map((e: any) => `${e.kind}:${e.buyerId ?? ''}`);
    expect(kinds).toEqual(expect.arrayContaining(['ping:fastbid', 'ping:xmlbuyer', 'post:fastbid']));
    const slow = audit.body.buyers.find((b: any) => b.buyerId === 'slowbid');
    expect(slow).toMatchObject({ reason: 'ping_timeout' });
    const post = audit.body.entries.find((e: any) => e.kind === 'post');
    expect(post.delivery.response.status).toBe(200);
    expect(post.delivery.request.body).not.toContain('@example.com');
  });
});
