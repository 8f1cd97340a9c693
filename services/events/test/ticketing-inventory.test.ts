import { afterEach, describe, expect, it } from 'vitest';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '@dems/contracts';
import { AppError, Upstreams, verifySignature } from '@dems/kit';
import { replicaStandIn, TEST_SECRET, type ReplicaStandIn } from '@dems/kit/testing';
import { onBehalfOf, ticketingInventory } from '../src/ticketing/inventory.js';

const CHANGE = { eventId: 'evt_1', version: 3, ticketTypes: [{ id: 'tt_1', capacity: 120 }] };

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The real client against stand-ins for two ticketing replicas. */
async function twoReplicas() {
  const replicas = await Promise.all([replicaStandIn('t1'), replicaStandIn('t2')]);
  const ticketing = new Upstreams({ service: 'ticketing', urls: replicas.map((r) => r.url) });
  cleanups.push(
    () => ticketing.stop(),
    () => Promise.all(replicas.map((r) => r.stop().catch(() => {}))),
  );
  return { replicas: replicas as [ReplicaStandIn, ReplicaStandIn], inventory: ticketingInventory({ ticketing, secret: TEST_SECRET, timeoutMs: 2000 }) };
}

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (err: unknown) => err as AppError,
  );

describe('asking ticketing replicas to confirm a capacity change', () => {
  it('sends the change, signed, to one replica', async () => {
    const { replicas, inventory } = await twoReplicas();
    await inventory.changeCapacity(CHANGE);
    const sent = [...replicas[0].seen, ...replicas[1].seen];
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ method: 'POST', url: '/internal/capacity', body: JSON.stringify(CHANGE) });
    const { headers, body } = sent[0]!;
    expect(verifySignature(TEST_SECRET, String(headers[TIMESTAMP_HEADER]), String(headers[SIGNATURE_HEADER]), body)).toBe(true);
  });

  it('carries the id of the request it serves, so one id follows the change into ticketing', async () => {
    const { replicas, inventory } = await twoReplicas();
    await onBehalfOf(inventory, 'req-patch-1').changeCapacity(CHANGE);
    await inventory.changeCapacity(CHANGE);
    const sent = [...replicas[0].seen, ...replicas[1].seen];
    expect(sent.map((s) => s.headers['x-request-id'])).toEqual(['req-patch-1', undefined]);
  });

  it('asks the other replica when one does not answer: the change is an absolute value, safe to send twice', async () => {
    const { replicas, inventory } = await twoReplicas();
    await replicas[0].stop();
    await inventory.changeCapacity(CHANGE);
    await inventory.changeCapacity(CHANGE);
    expect(replicas[1].seen.map((s) => s.body)).toEqual([JSON.stringify(CHANGE), JSON.stringify(CHANGE)]);
  });

  it('asks the other replica after a 503 from one (a stopping replica did nothing)', async () => {
    const { replicas, inventory } = await twoReplicas();
    replicas[0].answer(503);
    replicas[1].answer(503);
    expect((await errorOf(inventory.changeCapacity(CHANGE)))?.code).toBe('TICKETING_UNAVAILABLE');
    expect(replicas.map((r) => r.seen.length)).toEqual([1, 1]);
    replicas[1].answer(200);
    await inventory.changeCapacity(CHANGE);
  });

  it('never sends a refusal elsewhere: a 409 is ticketing’s answer', async () => {
    const { replicas, inventory } = await twoReplicas();
    for (const r of replicas) r.answer(409);
    const err = await errorOf(inventory.changeCapacity(CHANGE));
    // The stand-in's 409 names no refusal code, so it is reported as unavailable, and it was asked once only.
    expect(err?.code).toBe('TICKETING_UNAVAILABLE');
    expect(err?.message).toContain('it answered 409');
    expect(replicas[0].seen.length + replicas[1].seen.length).toBe(1);
  });

  it('says ticketing did not answer when no replica does, and changes nothing', async () => {
    const { replicas, inventory } = await twoReplicas();
    await Promise.all(replicas.map((r) => r.stop()));
    const err = await errorOf(inventory.changeCapacity(CHANGE));
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'TICKETING_UNAVAILABLE', message: expect.stringContaining('it did not answer') });
  });
});
