import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { proofOfWorkBits, proofOfWorkInput, type SignInProof } from '@dems/contracts';
import { MemoryOneTimeValues } from '@dems/kit';
import { TEST_SECRET } from '@dems/kit/testing';
import { SignInChallenges } from '../src/identity/sign-in-challenge.js';

const ACCOUNT = 'ada@example.com';
const TTL_MS = 5 * 60_000;

const bitsOf = (challenge: string, answer: string) => proofOfWorkBits(createHash('sha256').update(proofOfWorkInput(challenge, answer)).digest());

/** The first answer with exactly `bits` leading zero bits (not more), so the check is met at its boundary. */
function answerWithExactly(challenge: string, bits: number): string {
  for (let n = 0; ; n++) if (bitsOf(challenge, n.toString(36)) === bits) return n.toString(36);
}

function answerWithFewerThan(challenge: string, bits: number): string {
  for (let n = 0; ; n++) if (bitsOf(challenge, n.toString(36)) < bits) return n.toString(36);
}

/** A challenge service on a clock the test moves. */
function challenges(start = 1_000_000_000_000) {
  const clock = { now: start };
  const spent = new MemoryOneTimeValues(() => clock.now);
  return { clock, spent, c: new SignInChallenges(TEST_SECRET, spent, () => clock.now) };
}

const solved = (c: SignInChallenges, bits = 1, account = ACCOUNT): SignInProof => {
  const { challenge } = c.issue(account, bits);
  return { challenge, answer: answerWithExactly(challenge, bits) };
};

/** What a refused proof tells the person signing in (428 CHALLENGE_REQUIRED and why). */
async function refusal(redeem: () => Promise<void>): Promise<{ code: string; message: string }> {
  try {
    await redeem();
  } catch (err) {
    return { code: (err as { code: string }).code, message: (err as Error).message };
  }
  throw new Error('the proof was accepted');
}

describe('sign-in challenges', () => {
  it('says why one is needed when a sign-in brings no proof, and what to do', async () => {
    const { c } = challenges();
    expect(await refusal(() => c.redeem(ACCOUNT, undefined, 8))).toEqual({
      code: 'CHALLENGE_REQUIRED',
      message: 'There have been several failed sign-ins for this account or network. Please complete the security check and try again.',
    });
  });

  it('are issued bound to the account, with their difficulty and a five-minute expiry, carrying no email', async () => {
    const { c, clock } = challenges();
    const issued = c.issue(ACCOUNT, 9);
    expect(issued.difficulty).toBe(9);
    expect(issued.expiresAt).toBe(new Date(clock.now + TTL_MS).toISOString());
    // difficulty . expiry . nonce . account tag . MAC
    expect(issued.challenge).toMatch(/^9\.\d+\.[\w-]{16}\.[\w-]{16}\.[\w-]{43}$/);
    expect(issued.challenge).not.toContain('ada');
  });

  it('accepts an answer with exactly the bits asked, and refuses one with fewer as not solved', async () => {
    const { c } = challenges();
    const { challenge } = c.issue(ACCOUNT, 6);
    expect(await refusal(() => c.redeem(ACCOUNT, { challenge, answer: answerWithFewerThan(challenge, 6) }, 6))).toEqual({
      code: 'CHALLENGE_REQUIRED',
      message: 'The security check was not solved. Please complete the security check and try again.',
    });
    await c.redeem(ACCOUNT, { challenge, answer: answerWithExactly(challenge, 6) }, 6);
  });

  it('refuses a challenge that is malformed, forged, tampered with or issued for another account', async () => {
    const { c } = challenges();
    const notValid = { code: 'CHALLENGE_REQUIRED', message: 'The security check is not valid. Please complete the security check and try again.' };
    for (const challenge of ['nonsense', 'a.b.c.d', 'a.b.c.d.e.f']) expect(await refusal(() => c.redeem(ACCOUNT, { challenge, answer: '0' }, 1)), challenge).toEqual(notValid);

    const { challenge } = c.issue(ACCOUNT, 1);
    const [bits, expires, nonce, tag, mac] = challenge.split('.') as [string, string, string, string, string];
    const variants = {
      'a MAC of another length': [bits, expires, nonce, tag, mac.slice(1)],
      'a MAC of the right length, changed': [bits, expires, nonce, tag, (mac[0] === 'A' ? 'B' : 'A') + mac.slice(1)],
      'a later expiry under the old MAC': [bits, String(Number(expires) + TTL_MS), nonce, tag, mac],
      'another nonce under the old MAC': [bits, expires, nonce.replace(/^./, (ch) => (ch === 'A' ? 'B' : 'A')), tag, mac],
    };
    for (const [why, parts] of Object.entries(variants)) {
      const forged = parts.join('.');
      expect(await refusal(() => c.redeem(ACCOUNT, { challenge: forged, answer: answerWithExactly(forged, 1) }, 1)), why).toEqual(notValid);
    }
    // A genuine, solved challenge of one account signs nobody into another.
    expect(await refusal(() => c.redeem('grace@example.com', solved(c, 1), 1))).toEqual(notValid);
    // Nor does one of another deployment (another secret).
    expect(await refusal(() => c.redeem(ACCOUNT, solved(new SignInChallenges('another-secret-0123456789'), 1), 1))).toEqual(notValid);
  });

  it('expires five minutes after it was issued, at that very millisecond', async () => {
    const { c, clock } = challenges();
    const late = solved(c);
    const inTime = solved(c);
    clock.now += TTL_MS;
    expect(await refusal(() => c.redeem(ACCOUNT, late, 1))).toEqual({
      code: 'CHALLENGE_REQUIRED',
      message: 'The security check has expired. Please complete the security check and try again.',
    });
    clock.now -= 1;
    await c.redeem(ACCOUNT, inTime, 1);
  });

  it('refuses one easier than the failures now ask, and accepts a harder one', async () => {
    const { c } = challenges();
    expect(await refusal(() => c.redeem(ACCOUNT, solved(c, 2), 3))).toEqual({
      code: 'CHALLENGE_REQUIRED',
      message: 'The security check is no longer hard enough. Please complete the security check and try again.',
    });
    await c.redeem(ACCOUNT, solved(c, 3), 2);
  });

  it('is spent by its first use', async () => {
    const { c } = challenges();
    const proof = solved(c);
    await c.redeem(ACCOUNT, proof, 1);
    expect(await refusal(() => c.redeem(ACCOUNT, proof, 1))).toEqual({
      code: 'CHALLENGE_REQUIRED',
      message: 'The security check was already used. Please complete the security check and try again.',
    });
  });

  it('is spent once of many parallel uses', async () => {
    const { c } = challenges();
    const proof = solved(c);
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () =>
        c.redeem(ACCOUNT, proof, 1).then(
          () => 'accepted',
          (err: Error) => err.message,
        ),
      ),
    );
    expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(1);
    expect(new Set(outcomes.filter((o) => o !== 'accepted'))).toEqual(new Set(['The security check was already used. Please complete the security check and try again.']));
  });

  it('stays spent until it expires, in the spent set it was given (Redis, shared by the replicas, when configured)', async () => {
    const { c, clock, spent } = challenges();
    const proof = solved(c); // expires in 5 minutes
    await c.redeem(ACCOUNT, proof, 1);
    // Another replica's challenges, sharing the spent set, refuse it.
    const replica = new SignInChallenges(TEST_SECRET, spent, () => clock.now);
    expect((await refusal(() => replica.redeem(ACCOUNT, proof, 1))).message).toMatch(/already used/);
    // Remembered until the challenge's own expiry, not a moment longer.
    clock.now += TTL_MS - 1;
    expect(await spent.claim(proof.challenge, clock.now + 1)).toBe(false);
    clock.now += 1;
    expect(await spent.claim(proof.challenge, clock.now + 1)).toBe(true);
  });
});
