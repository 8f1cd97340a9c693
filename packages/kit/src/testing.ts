import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { FastifyInstance } from 'fastify';
import type { Message, Role } from '@dems/contracts';
import { TOKEN_AUDIENCE, TOKEN_ISSUER, verifierFor, type AuthUser, type TokenVerifier } from './auth.js';
import { signedJsonHeaders } from './signing.js';

/** Helpers for tests only. Stores in tests are real: SQLite files in fresh directories, tables on DynamoDB Local. */

export {
  ADAPTER_TIMEOUTS,
  adapterWanted,
  describeEachAdapter,
  dynamoTestTarget,
  onDynamoDbLocal,
  tempDir,
  uniqueTablePrefix,
  type AdapterCase,
  type AdapterHarness,
  type Backing,
  type MatrixOptions,
  type OpenStore,
  type StoreAdapters,
} from './testing/adapters.js';
export { describeOutboxStoreContract, type OutboxUnderTest } from './testing/outbox-contract.js';

export const TEST_SECRET = 'test-service-secret-0123456789';

/** A real Ed25519 key pair standing in for engagement's, so services can be tested alone with genuine tokens. */
export async function testTokens(): Promise<{
  verify: TokenVerifier;
  tokenFor: (user: Partial<AuthUser> & { id: string; role?: Role }, expiresIn?: string) => Promise<string>;
  bearer: (user: Partial<AuthUser> & { id: string; role?: Role }) => Promise<{ authorization: string }>;
}> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test', alg: 'EdDSA', use: 'sig' };
  const tokenFor = (user: Partial<AuthUser> & { id: string; role?: Role }, expiresIn = '15m') =>
    new SignJWT({ role: user.role ?? 'attendee', email: user.email ?? `${user.id}@example.com`, name: user.name ?? user.id })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'test' })
      .setSubject(user.id)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(expiresIn)
      .sign(privateKey);
  return {
    verify: verifierFor(createLocalJWKSet({ keys: [jwk] })),
    tokenFor,
    bearer: async (user) => ({ authorization: `Bearer ${await tokenFor(user)}` }),
  };
}

export function signedHeaders(body: string, secret = TEST_SECRET): Record<string, string> {
  return signedJsonHeaders(secret, body);
}

/** Delivers messages to a service's inbox exactly as the relay does. */
export async function deliver(app: FastifyInstance, messages: Message[], secret = TEST_SECRET) {
  const payload = JSON.stringify({ messages });
  return app.inject({ method: 'POST', url: '/internal/messages', headers: signedHeaders(payload, secret), payload });
}

export interface ReplicaStandIn {
  name: string;
  url: string;
  /** Every request that reached it except readiness probes, in order. */
  seen: { method: string; url: string; body: string; headers: IncomingHttpHeaders }[];
  /** How many GET /readyz probes reached it. */
  probes: () => number;
  /** The status (and extra headers) of its answers from now on, e.g. 503; /readyz answers 503 while `ready` is false. */
  answer: (status: number, headers?: Record<string, string>) => void;
  ready: (ready: boolean) => void;
  /** From now on it reads each request and then cuts the connection without answering (a replica that crashed mid-request). */
  hangUp: () => void;
  /** Stops listening and cuts open connections: to a caller, the replica is gone. */
  stop: () => Promise<void>;
  /** Listens again on the same port. */
  start: () => Promise<void>;
}

/**
 * A stand-in for one replica of a service (tests only, named as such): a real HTTP server on 127.0.0.1 that answers
 * every request with its name and what it received, and can be stopped and started again on the same port.
 */
export async function replicaStandIn(name: string): Promise<ReplicaStandIn> {
  const seen: ReplicaStandIn['seen'] = [];
  let probes = 0;
  let status = 200;
  let extraHeaders: Record<string, string> = {};
  let ready = true;
  let hangingUp = false;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/readyz') {
        probes++;
        res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ready }));
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', body, headers: req.headers });
      if (hangingUp) return void req.socket.destroy();
      res.writeHead(status, { ...extraHeaders, 'content-type': 'application/json' }).end(JSON.stringify({ replica: name, method: req.method, url: req.url, body }));
    });
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const port = await listen(0);
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    seen,
    probes: () => probes,
    answer: (s, headers = {}) => {
      status = s;
      extraHeaders = headers;
    },
    ready: (r) => void (ready = r),
    hangUp: () => void (hangingUp = true),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    start: async () => void (await listen(port)),
  };
}
