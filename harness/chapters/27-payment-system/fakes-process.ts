// The PSP and payout fakes in a process of their own, on plain node:http (fake-wire.ts), for the load run: in the
// harness's process they shared one event loop with the checks' bookkeeping and msw's per-request cost, and at
// the target's rate they, not the service, set the pace (the hosted page saw dial timeouts). Same behaviour as the
// checks' fakes (the same PspFake and PayoutFake), no fault modes (the load run uses none).
//
//   node --import tsx harness/chapters/27-payment-system/fakes-process.ts --secret S [--latency-ms 40] [--seed 1]
//     [--psp-port 0] [--payout-port 0]
// prints one line `READY {"psp":"http://127.0.0.1:…","payout":"http://127.0.0.1:…"}` and serves until SIGTERM.
// GET <psp>/_fake/stats answers what the fake did (charges, registrations, webhooks sent and failed).
import { parseArgs } from 'node:util';
import { json, plainServer } from './fake-wire.ts';
import { PayoutFake } from './payout-fake.ts';
import { createPlainSender } from './plain-webhooks.ts';
import { PspFake } from './psp-fake.ts';

const { values } = parseArgs({
  options: {
    secret: { type: 'string' },
    'latency-ms': { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
    'psp-port': { type: 'string', default: '0' },
    'payout-port': { type: 'string', default: '0' },
  },
});
if (!values.secret) {
  console.error('--secret (the webhook signing secret shared with the service) is required');
  process.exit(2);
}

let pspUrl = '';
const psp = new PspFake({
  secret: values.secret,
  seed: Number(values.seed),
  publicUrl: () => pspUrl,
  sender: createPlainSender,
});
psp.latencyMs = Number(values['latency-ms']);
const payouts = new PayoutFake();

const pspServer = await plainServer(
  'psp',
  async (r) => {
    if (r.method === 'GET' && r.url.pathname === '/_fake/stats') {
      const sent = psp.webhooksSent();
      return json(200, {
        registrations: psp.registrations.size,
        charges: psp.charges.length,
        webhooksSent: sent.length,
        webhooksFailed: sent.filter((w) => w.status === null || w.status >= 300).length,
        webhookErrors: [...new Set(sent.filter((w) => w.error).map((w) => w.error))].slice(0, 5),
        transfers: payouts.transfers.length,
      });
    }
    return psp.answer(r);
  },
  Number(values['psp-port']),
);
pspUrl = pspServer.url;
const payoutServer = await plainServer('payout', (r) => payouts.answer(r), Number(values['payout-port']));

const stop = async () => {
  psp.stop();
  await Promise.all([pspServer.close(), payoutServer.close()]);
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
console.log(`READY ${JSON.stringify({ psp: pspServer.url, payout: payoutServer.url })}`);
