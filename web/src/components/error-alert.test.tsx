import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '@/lib/api-client';
import { ErrorAlert } from './error-alert';

describe('ErrorAlert', () => {
  it('says an expected refusal plainly, with no reference to quote', () => {
    render(<ErrorAlert error={new ApiError('INVALID_CREDENTIALS', 'Email or password is wrong.', '3f1c2a4e-0000-4000-8000-000000000001', 401)} />);
    expect(screen.getByRole('alert')).toHaveTextContent('Email or password is wrong.');
    expect(screen.queryByText(/Reference/)).toBeNull();
  });

  it('gives the reference when something broke on our side, and a retry when the page can retry', async () => {
    const retry = vi.fn();
    render(<ErrorAlert error={new ApiError('INTERNAL', 'The server answered 500.', 'req-500', 500)} onRetry={retry} />);
    expect(screen.getByRole('alert')).toHaveTextContent('The server answered 500.');
    expect(screen.getByText('Reference: req-500')).toBeInTheDocument();
    await userEvent.setup().click(screen.getByRole('button', { name: 'Try again' }));
    expect(retry).toHaveBeenCalledOnce();
  });

  it('renders nothing without an error', () => {
    const { container } = render(<ErrorAlert error={null} />);
    expect(container).toBeEmptyDOMElement();
  });
});
