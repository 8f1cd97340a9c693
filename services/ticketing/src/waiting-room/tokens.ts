import { createHmac } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';

/**
 * Queue tokens and passes: compact JWS (HS256) under a key of their own, derived from SERVICE_SECRET with a fixed
 * label (never the raw secret, which signs service-to-service requests). Both are bound to one user (`sub`) and
 * one event (`evt`); `typ` tells them apart, so one can never stand for the other.
 */
const TOKEN_TYPE = 'queue-token';
const PASS_TYPE = 'queue-pass';
const HEADER = { alg: 'HS256', typ: 'JWT' } as const;

export interface QueueTokenClaims {
  userId: string;
  eventId: string;
  position: number;
  admitAtMs: number;
}

export interface QueuePassClaims {
  userId: string;
  eventId: string;
  expiresAtMs: number;
}

export class QueueTokens {
  private readonly key: Uint8Array;

  constructor(serviceSecret: string) {
    this.key = createHmac('sha256', serviceSecret).update('dems waiting-room tokens v1').digest();
  }

  /** The token of a place: what exchanges for a pass once admitAt has passed. */
  token(c: QueueTokenClaims): Promise<string> {
    return new SignJWT({ typ: TOKEN_TYPE, evt: c.eventId, pos: c.position, adm: Math.ceil(c.admitAtMs) }).setProtectedHeader(HEADER).setSubject(c.userId).sign(this.key);
  }

  /** A pass: deterministic (no issue time), so asking again for the same window yields the same pass. */
  pass(c: QueuePassClaims): Promise<string> {
    return new SignJWT({ typ: PASS_TYPE, evt: c.eventId })
      .setProtectedHeader(HEADER)
      .setSubject(c.userId)
      .setExpirationTime(Math.floor(c.expiresAtMs / 1000))
      .sign(this.key);
  }

  /** The token's claims when it is genuine and was given to this user for this event; null otherwise. */
  async verifyToken(token: string, userId: string, eventId: string): Promise<QueueTokenClaims | null> {
    const payload = await this.verify(token, TOKEN_TYPE, userId, eventId);
    if (!payload || !Number.isSafeInteger(payload.pos) || !Number.isSafeInteger(payload.adm)) return null;
    return { userId, eventId, position: payload.pos as number, admitAtMs: payload.adm as number };
  }

  /** True when the pass is genuine, unexpired at `nowMs`, and was given to this user for this event. */
  async verifyPass(pass: string, userId: string, eventId: string, nowMs: number): Promise<boolean> {
    const payload = await this.verify(pass, PASS_TYPE, userId, eventId, nowMs);
    return payload !== null && typeof payload.exp === 'number';
  }

  private async verify(jws: string, typ: string, userId: string, eventId: string, nowMs = Date.now()) {
    try {
      const { payload } = await jwtVerify(jws, this.key, { algorithms: ['HS256'], subject: userId, currentDate: new Date(nowMs), clockTolerance: 0 });
      return payload.typ === typ && payload.evt === eventId ? payload : null;
    } catch {
      return null;
    }
  }
}
