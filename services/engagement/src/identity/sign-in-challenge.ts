import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { proofOfWorkBits, proofOfWorkInput, type SignInChallenge, type SignInProof } from '@dems/contracts';
import { AppError, MemoryOneTimeValues, type OneTimeValues } from '@dems/kit';

/** How long a challenge may be solved and used: ample for a slow phone, short enough to keep the spent list small. */
const CHALLENGE_TTL_MS = 5 * 60_000;

/**
 * Sign-in challenges (docs/adr/007): stateless to issue and check — an HMAC over difficulty, expiry, a nonce
 * and a tag of the email — so any replica can verify one given the shared secret. Only "already used" is
 * remembered until the challenge expires: in `spent`, which is Redis shared by the replicas when configured,
 * so a challenge spent on one replica is refused on every other.
 */
export class SignInChallenges {
  private readonly key: Buffer;

  constructor(
    secret: string,
    private readonly spent: OneTimeValues = new MemoryOneTimeValues(),
    private readonly now: () => number = Date.now,
  ) {
    // A key of its own, so a challenge MAC can never double as a signature of an /internal request.
    // The derivation label predates the name "sign in"; it stays, so challenges survive a rolling upgrade.
    this.key = createHmac('sha256', secret).update('dems login challenge v1').digest();
  }

  /** A challenge of `difficulty` bits, bound to `account` (a lower-cased email). */
  issue(account: string, difficulty: number): SignInChallenge {
    const expiresAt = this.now() + CHALLENGE_TTL_MS;
    const body = `${difficulty}.${expiresAt}.${randomBytes(12).toString('base64url')}.${this.tag(account)}`;
    return { challenge: `${body}.${this.mac(body)}`, difficulty, expiresAt: new Date(expiresAt).toISOString() };
  }

  /**
   * Accepts a proof for `account` whose challenge asks at least `required` bits and whose answer meets them,
   * once; throws 428 CHALLENGE_REQUIRED otherwise. Spending is one atomic claim, so of parallel requests with one
   * challenge (on any replica) one gets through.
   */
  async redeem(account: string, proof: SignInProof | undefined, required: number): Promise<void> {
    const refuse = (why: string) => new AppError('CHALLENGE_REQUIRED', `${why} Please complete the security check and try again.`);
    if (!proof) throw refuse('There have been several failed sign-ins for this account or network.');
    const parts = proof.challenge.split('.');
    if (parts.length !== 5) throw refuse('The security check is not valid.');
    const [bitsText, expiresText, , tag, mac] = parts as [string, string, string, string, string];
    const expected = Buffer.from(this.mac(parts.slice(0, 4).join('.')));
    if (mac.length !== expected.length || !timingSafeEqual(Buffer.from(mac), expected) || tag !== this.tag(account)) {
      throw refuse('The security check is not valid.');
    }
    const bits = Number(bitsText);
    const expiresAt = Number(expiresText);
    if (expiresAt <= this.now()) throw refuse('The security check has expired.');
    // Failures since it was issued may have raised the bar; a harder new challenge replaces it (the bar stops at its cap).
    if (bits < required) throw refuse('The security check is no longer hard enough.');
    const hash = createHash('sha256').update(proofOfWorkInput(proof.challenge, proof.answer)).digest();
    if (proofOfWorkBits(hash) < bits) throw refuse('The security check was not solved.');
    if (!(await this.spent.claim(proof.challenge, expiresAt))) throw refuse('The security check was already used.');
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }

  /** Names the account without carrying the email in the challenge. */
  private tag(account: string): string {
    return createHmac('sha256', this.key).update(`account:${account}`).digest('base64url').slice(0, 16);
  }
}
