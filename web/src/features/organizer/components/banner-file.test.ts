import { describe, expect, it } from 'vitest';
import { ApiError } from '@/lib/api-client';
import { bannerContentType, bannerErrorMessage, bannerFileProblem, formatBytes } from './banner-file';

const MB = 1024 * 1024;

describe('banner file checks (before anything is sent)', () => {
  it('accepts JPEG, PNG and WebP by type, with the aliases browsers use, and by name only when there is no type', () => {
    expect(bannerContentType({ name: 'a.jpg', type: 'image/jpeg' })).toBe('image/jpeg');
    expect(bannerContentType({ name: 'a.png', type: 'image/png' })).toBe('image/png');
    expect(bannerContentType({ name: 'a.webp', type: 'image/webp' })).toBe('image/webp');
    expect(bannerContentType({ name: 'a.jpg', type: 'image/jpg' })).toBe('image/jpeg');
    expect(bannerContentType({ name: 'A.JPEG', type: '' })).toBe('image/jpeg');
    expect(bannerContentType({ name: 'photo', type: '' })).toBeNull();
    // A declared type wins over the name: an SVG or GIF named .png is still refused.
    expect(bannerContentType({ name: 'logo.png', type: 'image/svg+xml' })).toBeNull();
    expect(bannerContentType({ name: 'anim.gif', type: 'image/gif' })).toBeNull();
  });

  it('says in plain words what is wrong with the file, naming it', () => {
    expect(bannerFileProblem({ name: 'logo.svg', type: 'image/svg+xml', size: 2000 })).toBe('“logo.svg” is not a JPEG, PNG or WebP image. Please choose one of those.');
    expect(bannerFileProblem({ name: 'big.png', type: 'image/png', size: 6 * MB })).toBe(
      '“big.png” is 6 MB; a banner can be at most 5 MB. Please choose a smaller image or export it at a lower quality.',
    );
    expect(bannerFileProblem({ name: 'empty.png', type: 'image/png', size: 0 })).toBe('“empty.png” is empty. Please choose another image.');
  });

  it('accepts exactly 5 MB and refuses one byte more', () => {
    expect(bannerFileProblem({ name: 'ok.jpg', type: 'image/jpeg', size: 5 * MB })).toBeNull();
    expect(bannerFileProblem({ name: 'ok.jpg', type: 'image/jpeg', size: 5 * MB + 1 })).toMatch(/at most 5 MB/);
    expect(bannerFileProblem({ name: 'tiny.webp', type: 'image/webp', size: 1 })).toBeNull();
  });

  it('formats sizes as people read them', () => {
    expect(formatBytes(512)).toBe('512 bytes');
    expect(formatBytes(840 * 1024)).toBe('840 KB');
    expect(formatBytes(5 * MB)).toBe('5 MB');
    expect(formatBytes(5.25 * MB)).toBe('5.3 MB');
  });
});

describe("the server's refusal in plain words", () => {
  const refused = (code: string, status: number) => new ApiError(code, 'machine text', 'r1', status);

  it("shows the server's own sentence, which says what it found", () => {
    const svg = new ApiError('INVALID_IMAGE', 'This file is an SVG drawing, judged by its content. A banner must be a JPEG, PNG or WebP picture.', 'r1', 422);
    expect(bannerErrorMessage(svg)).toBe(svg.message);
    const small = new ApiError('INVALID_IMAGE', 'This image is 200 × 100 pixels; a banner needs at least 320 × 160 so it stays sharp.', 'r1', 422);
    expect(bannerErrorMessage(small)).toBe(small.message);
  });

  it('explains each banner code when the server gave no sentence, and a bare 413 from a proxy as too large', () => {
    expect(bannerErrorMessage(refused('INVALID_IMAGE', 422))).toMatch(/^We could not read that file as an image/);
    expect(bannerErrorMessage(refused('UNSUPPORTED_MEDIA_TYPE', 415))).toBe('Banners must be JPEG, PNG or WebP images. Please choose one of those.');
    expect(bannerErrorMessage(refused('PAYLOAD_TOO_LARGE', 413))).toBe('That image is too large: a banner can be at most 5 MB.');
    expect(bannerErrorMessage(new ApiError('INTERNAL', 'The server answered 413.', null, 413))).toBe('That image is too large: a banner can be at most 5 MB.');
    expect(bannerErrorMessage(refused('FORBIDDEN', 403))).toBe('Only the organizer of this event can change its banner.');
  });

  it('leaves other failures to the app-wide sentences', () => {
    expect(bannerErrorMessage(new ApiError('EVENT_NOT_FOUND', 'x', null, 404))).toBe('We could not find that event.');
    expect(bannerErrorMessage(new ApiError('NETWORK', 'x', null, 0))).toBe('We could not reach DEMS. Check your connection and try again.');
  });
});
