import { createHash } from 'node:crypto';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { proofOfWorkBits, proofOfWorkInput } from '@dems/contracts';
import { sessionStore } from '@/lib/session-store';
import { attendeeSession, json, renderApp } from '@/test/render';
import { SignInPage } from './sign-in-page';

afterEach(() => vi.unstubAllGlobals());

const CHALLENGE = '10.9999999999999.nonce.tag.mac';

describe('sign in', () => {
  it('after repeated failures solves the security check with Web Crypto, saying so, and signs in', async () => {
    let releaseChallenge: () => void = () => {};
    const challengeAsked = new Promise<void>((resolve) => (releaseChallenge = resolve));
    const proofs: { challenge: string; answer: string }[] = [];
    // A fake engagement API (the server is not under test here) that checks the proof as the server does.
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
        const path = String(url);
        const body = JSON.parse(String(init?.body ?? '{}'));
        if (path === '/api/sessions/challenge') {
          await challengeAsked;
          return json({ challenge: CHALLENGE, difficulty: 10, expiresAt: new Date(Date.now() + 300_000).toISOString() });
        }
        if (path === '/api/sessions' && !body.proof) {
          return json({ code: 'CHALLENGE_REQUIRED', message: 'Please complete the security check and try again.', requestId: 'r' }, 428);
        }
        if (path === '/api/sessions') {
          proofs.push(body.proof);
          const bits = proofOfWorkBits(createHash('sha256').update(proofOfWorkInput(body.proof.challenge, body.proof.answer)).digest());
          return bits >= 10 ? json(attendeeSession) : json({ code: 'CHALLENGE_REQUIRED', message: 'Not solved.', requestId: 'r' }, 428);
        }
        return json({ items: [], nextCursor: null, unreadCount: 0 });
      }),
    );
    renderApp(<SignInPage />, { session: null, path: '/signin' });
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'correct horse battery');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    expect(await screen.findByRole('button', { name: 'Checking…' })).toBeDisabled();
    expect(screen.getByText(/quick security check/)).toHaveAttribute('role', 'status');
    releaseChallenge();
    await waitFor(() => expect(sessionStore.get()?.user.email).toBe('ada@example.com'));
    expect(proofs).toHaveLength(1);
    expect(proofs[0]!.challenge).toBe(CHALLENGE);
  });
});
