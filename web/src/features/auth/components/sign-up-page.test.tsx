import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderApp } from '@/test/render';
import { SignUpPage } from './sign-up-page';

afterEach(() => vi.unstubAllGlobals());

describe('sign up', () => {
  it('refuses a password of only spaces before sending anything, and says why', async () => {
    const fakeFetch = vi.fn();
    vi.stubGlobal('fetch', fakeFetch);
    renderApp(<SignUpPage />, { session: null, path: '/signup' });
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Your name'), 'Ada');
    await user.type(screen.getByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText(/^Password/), '            ');
    await user.click(screen.getByRole('button', { name: 'Sign up' }));
    expect(await screen.findByText('Your password must contain something besides spaces.')).toBeInTheDocument();
    expect(fakeFetch).not.toHaveBeenCalled();
  });
});
