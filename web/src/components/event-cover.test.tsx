import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { coverBackground } from '@/lib/cover';
import { testEvent } from '@/test/fixtures';
import { EventCover } from './event-cover';

const withBanner = testEvent({
  bannerUrl: '/banners/ev-1/b7-1600.webp',
  bannerSizes: [
    { width: 400, height: 200, url: '/banners/ev-1/b7-400.webp' },
    { width: 800, height: 400, url: '/banners/ev-1/b7-800.webp' },
    { width: 1600, height: 800, url: '/banners/ev-1/b7-1600.webp' },
  ],
});

describe('EventCover', () => {
  it('shows the banner with every rendition in srcset, lazily on cards, eagerly on the event page, as decoration', () => {
    const { rerender } = render(<EventCover event={withBanner} variant="card" />);
    const img = screen.getByTestId('event-banner');
    expect(img).toHaveAttribute('src', '/banners/ev-1/b7-1600.webp');
    expect(img).toHaveAttribute('srcset', '/banners/ev-1/b7-400.webp 400w, /banners/ev-1/b7-800.webp 800w, /banners/ev-1/b7-1600.webp 1600w');
    expect(img.getAttribute('sizes')).toMatch(/33vw/);
    expect(img).toHaveAttribute('loading', 'lazy');
    expect(img).toHaveAttribute('alt', '');
    expect(img).toHaveAttribute('width', '1600');
    expect(img).toHaveAttribute('height', '800');
    expect(screen.getByTestId('event-cover')).toHaveAttribute('aria-hidden', 'true');
    expect(screen.getByTestId('event-cover')).toHaveClass('event-cover-card');

    rerender(<EventCover event={withBanner} variant="hero" />);
    expect(screen.getByTestId('event-banner')).toHaveAttribute('loading', 'eager');
    expect(screen.getByTestId('event-banner').getAttribute('sizes')).toMatch(/1296px/);
    expect(screen.getByTestId('event-cover')).toHaveClass('event-cover-hero');
  });

  it('without a banner draws the generated cover from the event (initials and date chip), with no image request', () => {
    render(<EventCover event={testEvent({ title: 'Harbour Lights Jazz' })} variant="card" />);
    const cover = screen.getByTestId('event-cover');
    expect(screen.queryByTestId('event-banner')).toBeNull();
    expect(cover.querySelector('img')).toBeNull();
    expect(cover).toHaveTextContent('HL');
    // 19:30 UTC on 14 July in Lisbon is still 14 July.
    expect(cover).toHaveTextContent('JUL14');
    expect(cover.style.getPropertyValue('--cover-background')).toBe(coverBackground('ev-1'));
  });

  it('falls back to the generated cover when the banner fails to load, and tries again for a new banner', () => {
    const { rerender } = render(<EventCover event={withBanner} variant="card" />);
    fireEvent.error(screen.getByTestId('event-banner'));
    expect(screen.queryByTestId('event-banner')).toBeNull();
    expect(screen.getByTestId('event-cover')).toHaveTextContent('JN');

    rerender(<EventCover event={{ ...withBanner, bannerUrl: '/banners/ev-1/c8-1600.webp' }} variant="card" />);
    expect(screen.getByTestId('event-banner')).toHaveAttribute('src', '/banners/ev-1/c8-1600.webp');
  });
});
