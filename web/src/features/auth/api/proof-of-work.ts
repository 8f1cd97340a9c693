import { proofOfWorkBits, proofOfWorkInput } from '@dems/contracts';

/** Hashes per round: enough to keep Web Crypto busy, few enough to stay responsive. */
const BATCH = 256;

/**
 * Finds an answer to a sign-in challenge: a string whose SHA-256 with the challenge starts with `difficulty`
 * zero bits. The server caps the difficulty so a phone needs at most a couple of seconds (ADR 007).
 */
export async function solveChallenge(challenge: string, difficulty: number): Promise<string> {
  const encoder = new TextEncoder();
  for (let start = 0; ; start += BATCH) {
    const answers = Array.from({ length: BATCH }, (_, i) => (start + i).toString(36));
    const hashes = await Promise.all(answers.map((answer) => crypto.subtle.digest('SHA-256', encoder.encode(proofOfWorkInput(challenge, answer)))));
    const found = hashes.findIndex((hash) => proofOfWorkBits(new Uint8Array(hash)) >= difficulty);
    if (found >= 0) return answers[found]!;
  }
}
