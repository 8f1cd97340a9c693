import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  Announcement,
  AnnouncementBody,
  LIVE_AUTHENTICATE_EVENT,
  LIVE_NOTIFICATION_EVENT,
  LiveAuthenticateBody,
  LiveAuthenticateResult,
  SignInBody,
  SignInChallenge,
  SignInChallengeBody,
  SignInProof,
  LogoutBody,
  LogoutEverywhereResult,
  NewPassword,
  Notification,
  NotificationPage,
  NotificationType,
  passwordIsEmail,
  proofOfWorkBits,
  proofOfWorkInput,
  ReadAllResult,
  RefreshBody,
  RefreshToken,
  Role,
  Session,
  SignUpBody,
  TokenClaims,
  User,
} from '@dems/contracts';
import { refusals, refusedPaths } from './issues.js';

describe('passwordIsEmail', () => {
  it.each([
    ['ana@example.com', 'ana@example.com', true],
    ['ANA@Example.COM', 'ana@example.com', true],
    ['  ana@example.com  ', 'ana@example.com', true],
    ['ana', 'ana@example.com', true],
    [' Ana ', 'ana@example.com', true],
    ['ana@example.com', ' ANA@example.com ', true],
    ['example.com', 'ana@example.com', false],
    ['ana@example', 'ana@example.com', false],
    ['anabanana', 'ana@example.com', false],
    ['an', 'ana@example.com', false],
  ])('%j for %j → %s', (password, email, same) => {
    expect(passwordIsEmail(password, email)).toBe(same);
  });
});

describe('NewPassword', () => {
  it.each(['x'.repeat(10), 'x'.repeat(200), '  correct horse  '])('accepts %j', (password) => {
    expect(NewPassword.parse(password)).toBe(password);
  });

  it.each([
    ['x'.repeat(9), 'must be at least 10 characters'],
    [' '.repeat(10), 'must contain something besides spaces'],
    [' \t\n '.repeat(5), 'must contain something besides spaces'],
  ])('refuses %j: %s', (password, message) => {
    expect(refusals(NewPassword, password)).toEqual([`: ${message}`]);
  });

  it('refuses more than 200 characters', () => {
    expect(NewPassword.safeParse('x'.repeat(201)).success).toBe(false);
  });
});

describe('SignUpBody', () => {
  const valid = { email: 'Ana@Example.com', password: 'correct horse', name: 'Ana' };

  it('lower-cases the email, trims the name and makes an attendee by default', () => {
    expect(SignUpBody.parse({ ...valid, name: '  Ana Lima ' })).toEqual({
      email: 'ana@example.com',
      password: 'correct horse',
      name: 'Ana Lima',
      role: 'attendee',
    });
  });

  it.each(['attendee', 'organizer'])('accepts the role %s', (role) => {
    expect(SignUpBody.parse({ ...valid, role }).role).toBe(role);
  });

  it.each([
    ['role', 'admin'],
    ['role', 'Organizer'],
    ['name', ''],
    ['name', '   '],
    ['name', 'x'.repeat(101)],
    ['email', 'not-an-email'],
    ['email', `${'a'.repeat(243)}@example.com`],
    ['email', undefined],
    ['password', 'short'],
    ['password', undefined],
  ])('refuses %s = %j, naming the field', (field, value) => {
    expect(refusedPaths(SignUpBody, { ...valid, [field]: value })).toEqual([field]);
  });

  it('accepts a 100-character name and a 254-character email', () => {
    expect(SignUpBody.parse({ ...valid, name: 'x'.repeat(100) }).name).toHaveLength(100);
    const email = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`;
    expect(email).toHaveLength(254);
    expect(SignUpBody.parse({ ...valid, email }).email).toBe(email);
  });

  it('refuses a password that is the email, naming the password', () => {
    expect(refusals(SignUpBody, { email: 'longname@example.com', password: 'LongName@Example.com', name: 'L' })).toEqual(['password: must not be your email address']);
    expect(refusals(SignUpBody, { email: 'longername@example.com', password: 'longername', name: 'L' })).toEqual(['password: must not be your email address']);
  });

  it('refuses unknown fields', () => {
    expect(refusedPaths(SignUpBody, { ...valid, admin: true })).toEqual(['']);
  });
});

describe('users and roles', () => {
  const user = { id: 'usr_1', email: 'ana@example.com', name: 'Ana', role: 'attendee', createdAt: '2029-01-01T00:00:00.000Z' };

  it('has three roles', () => {
    expect(Role.options).toEqual(['attendee', 'organizer', 'admin']);
  });

  it('User accepts what the service answers and refuses a wrong field', () => {
    expect(User.parse(user)).toEqual(user);
    expect(refusedPaths(User, { ...user, role: 'root' })).toEqual(['role']);
    expect(refusedPaths(User, { ...user, id: 'a b' })).toEqual(['id']);
    expect(refusedPaths(User, { ...user, email: 1 })).toEqual(['email']);
    expect(refusedPaths(User, { ...user, name: undefined })).toEqual(['name']);
    expect(refusedPaths(User, { ...user, createdAt: 'yesterday' })).toEqual(['createdAt']);
  });

  it('TokenClaims carry sub, role, email and name', () => {
    const claims = { sub: 'usr_1', role: 'admin', email: 'a@b.c', name: 'A' };
    expect(TokenClaims.parse(claims)).toEqual(claims);
    expect(refusedPaths(TokenClaims, { ...claims, sub: 'a b' })).toEqual(['sub']);
    expect(refusedPaths(TokenClaims, { ...claims, role: 'root' })).toEqual(['role']);
    expect(refusedPaths(TokenClaims, { ...claims, email: undefined })).toEqual(['email']);
    expect(refusedPaths(TokenClaims, { ...claims, name: 1 })).toEqual(['name']);
  });
});

describe('sign-in', () => {
  const login = { email: 'Ana@Example.com', password: 'p' };

  it('SignInBody lower-cases the email and takes an optional proof', () => {
    expect(SignInBody.parse(login)).toEqual({ email: 'ana@example.com', password: 'p' });
    const proof = { challenge: 'c', answer: 'a' };
    expect(SignInBody.parse({ ...login, proof })).toEqual({ email: 'ana@example.com', password: 'p', proof });
  });

  it.each([
    ['password', ''],
    ['password', 'x'.repeat(201)],
    ['email', 'ana'],
    ['proof', { challenge: '', answer: 'a' }],
    ['proof', { challenge: 'c', answer: 'a', extra: 1 }],
  ])('SignInBody refuses %s = %j', (field, value) => {
    expect(refusedPaths(SignInBody, { ...login, [field]: value })[0]).toMatch(new RegExp(`^${field}`));
  });

  it('SignInBody accepts a 200-character password and refuses unknown fields', () => {
    expect(SignInBody.safeParse({ ...login, password: 'x'.repeat(200) }).success).toBe(true);
    expect(refusedPaths(SignInBody, { ...login, remember: true })).toEqual(['']);
  });

  it.each([
    [{ challenge: 'c', answer: 'a' }, true],
    [{ challenge: 'c'.repeat(300), answer: 'a'.repeat(32) }, true],
    [{ challenge: '', answer: 'a' }, false],
    [{ challenge: 'c'.repeat(301), answer: 'a' }, false],
    [{ challenge: 'c', answer: '' }, false],
    [{ challenge: 'c', answer: 'a'.repeat(33) }, false],
    [{ challenge: 'c', answer: 'a', bits: 3 }, false],
  ])('SignInProof %j → %s', (proof, ok) => {
    expect(SignInProof.safeParse(proof).success).toBe(ok);
  });

  it('SignInChallengeBody takes exactly an email, lower-cased', () => {
    expect(SignInChallengeBody.parse({ email: 'A@B.CO' })).toEqual({ email: 'a@b.co' });
    expect(SignInChallengeBody.safeParse({ email: 'a@b.co', x: 1 }).success).toBe(false);
    expect(SignInChallengeBody.safeParse({ email: 'nope' }).success).toBe(false);
  });

  it('SignInChallenge has a difficulty of zero or more bits', () => {
    const challenge = { challenge: 'c', difficulty: 0, expiresAt: '2030-01-01T00:00:00.000Z' };
    expect(SignInChallenge.parse(challenge)).toEqual(challenge);
    expect(refusedPaths(SignInChallenge, { ...challenge, difficulty: -1 })).toEqual(['difficulty']);
    expect(refusedPaths(SignInChallenge, { ...challenge, difficulty: 1.5 })).toEqual(['difficulty']);
    expect(refusedPaths(SignInChallenge, { ...challenge, challenge: 1 })).toEqual(['challenge']);
    expect(refusedPaths(SignInChallenge, { ...challenge, expiresAt: 'soon' })).toEqual(['expiresAt']);
  });
});

describe('proof of work', () => {
  it('judges the text `challenge:answer`', () => {
    expect(proofOfWorkInput('abc', '42')).toBe('abc:42');
  });

  it.each([
    [[0x80, 0x00], 0],
    [[0xff], 0],
    [[0x40], 1],
    [[0x01, 0xff], 7],
    [[0x00, 0x80], 8],
    [[0x00, 0x01], 15],
    [[0x00, 0x00, 0x20, 0x00], 18],
    [[0x00, 0x00], 16],
    [[], 0],
  ])('%j starts with %i zero bits', (bytes, bits) => {
    expect(proofOfWorkBits(Uint8Array.from(bytes))).toBe(bits);
  });

  it('agrees with a real SHA-256 hash', () => {
    const hash = createHash('sha256').update(proofOfWorkInput('challenge', 'answer')).digest();
    const bitString = [...hash].map((b) => b.toString(2).padStart(8, '0')).join('');
    expect(proofOfWorkBits(hash)).toBe(bitString.indexOf('1'));
  });
});

describe('sessions and refresh tokens', () => {
  const token = 'A'.repeat(10) + 'z_-9'.repeat(3);

  it.each(['a'.repeat(20), 'a'.repeat(200), 'Az09_-Az09_-Az09_-Az'])('RefreshToken accepts %j', (t) => {
    expect(RefreshToken.parse(t)).toBe(t);
  });

  it.each(['a'.repeat(19), 'a'.repeat(201), `${'a'.repeat(20)} `, `!${'a'.repeat(20)}`, `${'a'.repeat(20)}!`, `${'a'.repeat(10)}.${'a'.repeat(10)}`, `${'a'.repeat(20)}\n`])(
    'RefreshToken refuses %j',
    (t) => {
      expect(RefreshToken.safeParse(t).success).toBe(false);
    },
  );

  it('says what a refresh token is', () => {
    expect(refusals(RefreshToken, `!${'a'.repeat(20)}`)).toEqual([': must be a refresh token you were given']);
  });

  it.each([
    ['RefreshBody', RefreshBody],
    ['LogoutBody', LogoutBody],
  ] as const)('%s takes exactly a refresh token', (_name, schema) => {
    expect(schema.parse({ refreshToken: 'a'.repeat(22) })).toEqual({ refreshToken: 'a'.repeat(22) });
    expect(refusedPaths(schema, { refreshToken: 'short' })).toEqual(['refreshToken']);
    expect(refusedPaths(schema, { refreshToken: 'a'.repeat(22), all: true })).toEqual(['']);
  });

  it('LogoutEverywhereResult says how many sessions were revoked', () => {
    expect(LogoutEverywhereResult.parse({ ok: true, revoked: 3 })).toEqual({ ok: true, revoked: 3 });
    expect(LogoutEverywhereResult.safeParse({ ok: false, revoked: 3 }).success).toBe(false);
    expect(LogoutEverywhereResult.safeParse({ ok: true, revoked: 1.5 }).success).toBe(false);
  });

  it('Session holds both tokens, their expiries and the user', () => {
    const session = {
      token: 'jwt',
      expiresAt: '2030-01-01T00:15:00.000Z',
      refreshToken: token,
      refreshExpiresAt: '2030-01-31T00:00:00.000Z',
      user: { id: 'usr_1', email: 'a@b.c', name: 'A', role: 'organizer', createdAt: '2029-01-01T00:00:00.000Z' },
    };
    expect(Session.parse(session)).toEqual(session);
    for (const field of ['token', 'expiresAt', 'refreshToken', 'refreshExpiresAt', 'user'] as const) {
      expect(refusedPaths(Session, { ...session, [field]: undefined })).toEqual([field]);
    }
    expect(refusedPaths(Session, { ...session, expiresAt: 'soon' })).toEqual(['expiresAt']);
    expect(refusedPaths(Session, { ...session, refreshExpiresAt: 'later' })).toEqual(['refreshExpiresAt']);
    expect(refusedPaths(Session, { ...session, user: { ...session.user, role: 'root' } })).toEqual(['user.role']);
  });
});

describe('notifications', () => {
  const notification = {
    id: 'ntf_1',
    type: 'announcement',
    title: 'Hi',
    body: 'Doors open at 7',
    eventId: 'evt_1',
    createdAt: '2030-01-01T00:00:00.000Z',
    readAt: null,
  };

  it('knows the notification types', () => {
    expect(NotificationType.options).toEqual([
      'order_confirmed',
      'ticket_cancelled',
      'registration_confirmed',
      'registration_withdrawn',
      'event_updated',
      'event_cancelled',
      'announcement',
    ]);
  });

  it('accepts a notification, read or unread, with or without an event', () => {
    expect(Notification.parse(notification)).toEqual(notification);
    const read = { ...notification, eventId: null, readAt: '2030-01-02T00:00:00.000Z' };
    expect(Notification.parse(read)).toEqual(read);
  });

  it.each([
    ['id', 'a b'],
    ['type', 'spam'],
    ['title', 1],
    ['body', undefined],
    ['eventId', 'a b'],
    ['createdAt', null],
    ['readAt', 'now'],
    ['readAt', undefined],
  ])('refuses %s = %j', (field, value) => {
    expect(refusedPaths(Notification, { ...notification, [field]: value })).toEqual([field]);
  });

  it('NotificationPage has items, nextCursor and unreadCount', () => {
    const page = { items: [notification], nextCursor: null, unreadCount: 1 };
    expect(NotificationPage.parse(page)).toEqual(page);
    expect(NotificationPage.parse({ ...page, nextCursor: 'c' }).nextCursor).toBe('c');
    expect(refusedPaths(NotificationPage, { ...page, unreadCount: 0.5 })).toEqual(['unreadCount']);
    expect(refusedPaths(NotificationPage, { ...page, nextCursor: undefined })).toEqual(['nextCursor']);
    expect(refusedPaths(NotificationPage, { ...page, items: [{ ...notification, type: 'x' }] })).toEqual(['items.0.type']);
  });

  it('ReadAllResult counts whole notifications', () => {
    expect(ReadAllResult.parse({ updated: 2 })).toEqual({ updated: 2 });
    expect(ReadAllResult.safeParse({ updated: 0.5 }).success).toBe(false);
    expect(ReadAllResult.safeParse({}).success).toBe(false);
  });
});

describe('announcements', () => {
  it('trims the message and takes 1–2000 characters', () => {
    expect(AnnouncementBody.parse({ eventId: 'evt_1', message: '  Doors open at 7 ' })).toEqual({
      eventId: 'evt_1',
      message: 'Doors open at 7',
    });
    expect(AnnouncementBody.parse({ eventId: 'evt_1', message: 'x'.repeat(2000) }).message).toHaveLength(2000);
    expect(AnnouncementBody.parse({ eventId: 'evt_1', message: ` ${'x'.repeat(2000)}\n` }).message).toHaveLength(2000);
  });

  it.each([
    ['message', ''],
    ['message', '  \n\t '],
    ['message', 'x'.repeat(2001)],
    ['eventId', 'a/b'],
  ])('refuses %s = %j, naming the field', (field, value) => {
    expect(refusedPaths(AnnouncementBody, { eventId: 'evt_1', message: 'Hi', [field]: value })).toEqual([field]);
  });

  it('refuses unknown fields', () => {
    expect(refusedPaths(AnnouncementBody, { eventId: 'evt_1', message: 'Hi', to: 'all' })).toEqual(['']);
  });

  it('Announcement says how many got it', () => {
    const a = { id: 'ann_1', eventId: 'evt_1', message: 'Hi', recipients: 3, createdAt: '2030-01-01T00:00:00.000Z' };
    expect(Announcement.parse(a)).toEqual(a);
    expect(refusedPaths(Announcement, { ...a, recipients: 1.5 })).toEqual(['recipients']);
    expect(refusedPaths(Announcement, { ...a, id: '' })).toEqual(['id']);
    expect(refusedPaths(Announcement, { ...a, eventId: undefined })).toEqual(['eventId']);
    expect(refusedPaths(Announcement, { ...a, message: 2 })).toEqual(['message']);
    expect(refusedPaths(Announcement, { ...a, createdAt: 'now' })).toEqual(['createdAt']);
  });
});

describe('live notifications', () => {
  it('use the Socket.IO events "notification" and "authenticate"', () => {
    expect(LIVE_NOTIFICATION_EVENT).toBe('notification');
    expect(LIVE_AUTHENTICATE_EVENT).toBe('authenticate');
  });

  it.each([
    [{ token: 't' }, true],
    [{ token: 't'.repeat(4096) }, true],
    [{ token: '' }, false],
    [{ token: 't'.repeat(4097) }, false],
    [{ token: 't', extra: 1 }, false],
  ])('LiveAuthenticateBody %j → %s', (body, ok) => {
    expect(LiveAuthenticateBody.safeParse(body).success).toBe(ok);
  });

  it.each([
    [{ ok: true, expiresAt: '2030-01-01T00:15:00.000Z' }, true],
    [{ ok: false, code: 'UNAUTHENTICATED', message: 'Expired' }, true],
    [{ ok: true, code: 'UNAUTHENTICATED', message: 'Expired' }, false],
    [{ ok: true, expiresAt: 'soon' }, false],
    [{ ok: false, expiresAt: '2030-01-01T00:15:00.000Z' }, false],
    [{ ok: false, code: 'X' }, false],
    [{ ok: false, message: 'X' }, false],
  ])('LiveAuthenticateResult %j → %s', (result, ok) => {
    expect(LiveAuthenticateResult.safeParse(result).success).toBe(ok);
  });
});
