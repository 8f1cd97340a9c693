import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Event } from '@dems/contracts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { installFakeXhr, type FakeXhr } from '@/test/fake-xhr';
import { testEvent } from '@/test/fixtures';
import { json, organizerSession, renderApp } from '@/test/render';
import { EventsPage } from '@/features/events';
import { EditEventPage } from './edit-event-page';

const MB = 1024 * 1024;
const bannered: Event = testEvent({
  bannerUrl: '/banners/ev-1/b1-1600.webp',
  bannerSizes: [
    { width: 800, height: 400, url: '/banners/ev-1/b1-800.webp' },
    { width: 1600, height: 800, url: '/banners/ev-1/b1-1600.webp' },
  ],
});

/**
 * A fake events API (the real one is tested in services/events): it keeps one event, serves it alone and in
 * the list, and removes its banner on DELETE. Uploads go through XMLHttpRequest, answered by the test.
 */
function fakeEventsApi(initial: Event) {
  const state = { event: initial };
  const calls: string[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string | URL | Request, init: RequestInit = {}) => {
      const { pathname } = new URL(String(url), 'http://localhost');
      const method = init.method ?? 'GET';
      calls.push(`${method} ${pathname}`);
      if (pathname === '/api/events') return json({ items: [state.event], nextCursor: null });
      if (pathname === '/api/events/ev-1') return json(state.event);
      if (method === 'DELETE' && pathname === '/api/events/ev-1/banner') {
        state.event = { ...state.event, bannerUrl: null, bannerSizes: [] };
        return json(state.event);
      }
      if (pathname === '/api/availability/ev-1') return json({ eventId: 'ev-1', ticketTypes: [] });
      return json({ code: 'NOT_FOUND', message: 'No such route.', requestId: 'r' }, 404);
    }),
  );
  return { state, calls };
}

/** The edit page and the discover page side by side, sharing one query cache, as in the app. */
function renderEditor(initial: Event) {
  const api = fakeEventsApi(initial);
  const uploads = installFakeXhr();
  const utils = renderApp(
    <>
      <EditEventPage id="ev-1" />
      <EventsPage />
    </>,
    { session: organizerSession },
  );
  return { ...utils, api, uploads, user: userEvent.setup({ delay: null }) };
}

const png = (name = 'harbour.png', size = 1 * MB, type = 'image/png') => new File([new Uint8Array(size)], name, { type });
const picker = () => screen.findByLabelText(/banner image/i);
const card = () => screen.getByTestId('event-card');

afterEach(() => vi.unstubAllGlobals());

describe('BannerEditor: the organizer uploads, replaces and removes the banner', () => {
  it('refuses a wrong type or an oversized file with a plain message, before anything is sent', async () => {
    const { user, uploads } = renderEditor(testEvent());
    await user.upload(await picker(), png('logo.svg', 3000, 'image/svg+xml'));
    // userEvent honours `accept`; a drop (or a picker that ignores it) still hands over any file.
    fireEvent.drop(screen.getByTestId('banner-drop'), { dataTransfer: { files: [png('logo.svg', 3000, 'image/svg+xml')] } });
    expect(await screen.findByRole('alert')).toHaveTextContent('“logo.svg” is not a JPEG, PNG or WebP image. Please choose one of those.');
    expect(await picker()).toHaveAttribute('aria-invalid', 'true');

    fireEvent.drop(screen.getByTestId('banner-drop'), { dataTransfer: { files: [png('huge.png', 6 * MB)] } });
    expect(await screen.findByRole('alert')).toHaveTextContent('“huge.png” is 6 MB; a banner can be at most 5 MB.');
    expect(screen.queryByRole('button', { name: 'Upload banner' })).toBeNull();
    expect(screen.queryByTestId('banner-preview')).toBeNull();
    expect(uploads).toHaveLength(0);
  });

  it('previews the chosen file, shows upload progress, and on success every view shows the new banner', async () => {
    const { user, uploads, api } = renderEditor(testEvent());
    expect(await screen.findByTestId('banner-caption')).toHaveTextContent('No banner yet: cards show this generated cover.');
    await waitFor(() => expect(within(card()).getByTestId('event-cover')).toBeInTheDocument());
    expect(within(card()).queryByTestId('event-banner')).toBeNull();

    const file = png();
    await user.upload(await picker(), file);
    // The file itself, read as a data: URL (the CSP allows images from data: but not blob:).
    const preview = (await screen.findByTestId('banner-preview')).getAttribute('src')!;
    expect(preview.startsWith('data:image/png;base64,')).toBe(true);
    expect(atob(preview.slice('data:image/png;base64,'.length))).toHaveLength(file.size);
    expect(screen.getByTestId('banner-caption')).toHaveTextContent('Preview — not uploaded yet.');
    expect(uploads).toHaveLength(0);

    await user.click(screen.getByRole('button', { name: 'Upload banner' }));
    await waitFor(() => expect(uploads).toHaveLength(1));
    const xhr: FakeXhr = uploads[0]!;
    expect([xhr.method, xhr.url]).toEqual(['PUT', '/api/events/ev-1/banner']);
    expect(xhr.headers['content-type']).toBe('image/png');
    expect(xhr.headers.authorization).toBe(`Bearer ${organizerSession.token}`);
    expect(xhr.body).toBe(file);
    expect(await picker()).toBeDisabled();

    xhr.progress(MB / 2, MB);
    expect(await screen.findByText('Uploading… 512 KB of 1 MB')).toBeInTheDocument();
    expect(screen.getByRole('progressbar', { name: 'Banner upload' })).toHaveAttribute('aria-valuenow', '50');
    xhr.progress(MB, MB);
    expect(await screen.findByText('Preparing the banner…')).toBeInTheDocument();

    const listReadsBefore = api.calls.filter((c) => c === 'GET /api/events').length;
    api.state.event = bannered;
    xhr.respond(200, bannered);

    expect(await screen.findByText('Banner added')).toBeInTheDocument();
    expect(screen.getByTestId('banner-caption')).toHaveTextContent('The current banner.');
    expect(screen.queryByTestId('banner-preview')).toBeNull();
    // The cached event is replaced at once and the lists are read again, so the card shows it too.
    const shown = screen.getAllByTestId('event-banner');
    expect(shown.map((img) => img.getAttribute('src'))).toContain('/banners/ev-1/b1-1600.webp');
    await waitFor(() => expect(within(card()).getByTestId('event-banner')).toHaveAttribute('srcset', '/banners/ev-1/b1-800.webp 800w, /banners/ev-1/b1-1600.webp 1600w'));
    expect(api.calls.filter((c) => c === 'GET /api/events').length).toBeGreaterThan(listReadsBefore);
    expect(screen.getByRole('button', { name: 'Remove banner' })).toBeInTheDocument();
  });

  it("a dropped file replaces the banner; the server's refusal is shown in plain words and nothing changes", async () => {
    const { user, uploads } = renderEditor(bannered);
    expect(await screen.findByTestId('banner-caption')).toHaveTextContent('The current banner.');
    fireEvent.dragOver(screen.getByTestId('banner-drop'));
    expect(screen.getByTestId('banner-drop')).toHaveClass('banner-drop-active');
    fireEvent.drop(screen.getByTestId('banner-drop'), { dataTransfer: { files: [png('renamed.png', 2048)] } });
    expect(screen.getByTestId('banner-drop')).not.toHaveClass('banner-drop-active');
    await user.click(await screen.findByRole('button', { name: 'Replace banner' }));
    await waitFor(() => expect(uploads).toHaveLength(1));
    uploads[0]!.respond(422, { code: 'INVALID_IMAGE', message: 'This file is not an image we can read. Please upload a JPEG, PNG or WebP picture.', requestId: 'r1' });

    expect(await screen.findByRole('alert')).toHaveTextContent('This file is not an image we can read. Please upload a JPEG, PNG or WebP picture.');
    // The choice stays, so the organizer can pick another or cancel; the old banner is still the event's.
    expect(screen.getByTestId('banner-preview')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.getByTestId('banner-caption')).toHaveTextContent('The current banner.');
  });

  it('an upload can be cancelled while it is being sent', async () => {
    const { user, uploads } = renderEditor(testEvent());
    await user.upload(await picker(), png());
    await user.click(screen.getByRole('button', { name: 'Upload banner' }));
    await waitFor(() => expect(uploads).toHaveLength(1));
    await user.click(await screen.findByRole('button', { name: 'Cancel upload' }));
    expect(uploads[0]!.aborted).toBe(true);
    expect(await screen.findByText('Upload cancelled.')).toBeInTheDocument();
    expect(screen.queryByRole('alert')).toBeNull();
    // Still chosen: pressing Upload again sends it again.
    await user.click(screen.getByRole('button', { name: 'Upload banner' }));
    await waitFor(() => expect(uploads).toHaveLength(2));
  });

  it('a file the browser cannot draw is flagged and cannot be uploaded', async () => {
    const { user } = renderEditor(testEvent());
    await user.upload(await picker(), png('page.png', 4096));
    fireEvent.error(await screen.findByTestId('banner-preview'));
    expect(await screen.findByRole('alert')).toHaveTextContent('This file cannot be shown as an image');
    expect(screen.getByRole('button', { name: 'Upload banner' })).toBeDisabled();
  });

  it('removes the banner only after confirmation, and the cover comes back everywhere', async () => {
    const { user, api } = renderEditor(bannered);
    await user.click(await screen.findByRole('button', { name: 'Remove banner' }));
    const dialog = screen.getByRole('dialog', { name: 'Remove the banner?' });
    await user.click(within(dialog).getByRole('button', { name: 'Keep banner' }));
    expect(api.calls).not.toContain('DELETE /api/events/ev-1/banner');
    expect(screen.queryByRole('dialog')).toBeNull();

    await user.click(screen.getByRole('button', { name: 'Remove banner' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Remove banner' }));
    expect(await screen.findByText('Banner removed')).toBeInTheDocument();
    expect(api.calls).toContain('DELETE /api/events/ev-1/banner');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(screen.getByTestId('banner-caption')).toHaveTextContent('No banner yet');
    await waitFor(() => expect(screen.queryAllByTestId('event-banner')).toHaveLength(0));
    expect(screen.queryByRole('button', { name: 'Remove banner' })).toBeNull();
  });
});
