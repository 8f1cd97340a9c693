import { describe, expect, it } from 'vitest';
import { ErrorBody, Id, IdParams, isValidTimeZone, Ok, PageQuery } from '@dems/contracts';

describe('Id: opaque, URL-safe, 1–64 characters', () => {
  it.each(['a', 'evt_1', 'A-z_0-9', 'x'.repeat(64)])('accepts %j', (id) => {
    expect(Id.parse(id)).toBe(id);
  });

  it.each(['', 'x'.repeat(65), 'evt 1', 'evt/1', '../etc', 'évt', 'evt_1\n', ' evt_1'])('refuses %j', (id) => {
    expect(Id.safeParse(id).success).toBe(false);
  });

  it('says what an id looks like', () => {
    expect(Id.safeParse('a/b').error?.issues[0]?.message).toBe('must be an id (letters, digits, - and _)');
  });
});

describe('IdParams', () => {
  it('takes exactly an id', () => {
    expect(IdParams.parse({ id: 'evt_1' })).toEqual({ id: 'evt_1' });
    expect(IdParams.safeParse({ id: 'evt_1', other: 'x' }).success).toBe(false);
    expect(IdParams.safeParse({}).success).toBe(false);
    expect(IdParams.safeParse({ id: 'a b' }).success).toBe(false);
  });
});

describe('PageQuery', () => {
  it('defaults the limit to 20 and leaves the cursor out', () => {
    expect(PageQuery.parse({})).toEqual({ limit: 20 });
  });

  it.each([
    ['1', 1],
    ['100', 100],
    [50, 50],
  ])('accepts limit %j as %i', (limit, parsed) => {
    expect(PageQuery.parse({ limit }).limit).toBe(parsed);
  });

  it.each(['0', '101', '2.5', 'ten', '-1'])('refuses limit %j', (limit) => {
    const result = PageQuery.safeParse({ limit });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['limit']);
  });

  it('accepts a cursor of up to 512 characters', () => {
    expect(PageQuery.parse({ cursor: 'c'.repeat(512) }).cursor).toHaveLength(512);
    expect(PageQuery.safeParse({ cursor: 'c'.repeat(513) }).success).toBe(false);
  });

  it('refuses unknown parameters', () => {
    expect(PageQuery.safeParse({ page: '2' }).success).toBe(false);
  });
});

describe('ErrorBody', () => {
  const body = { code: 'VALIDATION_FAILED', message: 'Bad', requestId: 'req_1' };

  it('has code, message and requestId, and optional details with path and message', () => {
    expect(ErrorBody.parse(body)).toEqual(body);
    const withDetails = { ...body, details: [{ path: 'title', message: 'Required' }] };
    expect(ErrorBody.parse(withDetails)).toEqual(withDetails);
  });

  it.each(['code', 'message', 'requestId'] as const)('needs %s as a string', (field) => {
    expect(ErrorBody.safeParse({ ...body, [field]: undefined }).success).toBe(false);
    expect(ErrorBody.safeParse({ ...body, [field]: 1 }).success).toBe(false);
  });

  it.each([{ path: 'title' }, { message: 'x' }, { path: 1, message: 'x' }])('refuses the detail %j', (detail) => {
    expect(ErrorBody.safeParse({ ...body, details: [detail] }).success).toBe(false);
  });
});

describe('Ok', () => {
  it('is { ok: true } only', () => {
    expect(Ok.parse({ ok: true })).toEqual({ ok: true });
    expect(Ok.safeParse({ ok: false }).success).toBe(false);
    expect(Ok.safeParse({}).success).toBe(false);
  });
});

describe('isValidTimeZone', () => {
  it.each([
    ['Europe/Berlin', true],
    ['America/Argentina/Buenos_Aires', true],
    ['UTC', true],
    ['Mars/Olympus', false],
    ['Europe/Nowhere', false],
    ['', false],
  ])('%j → %s', (tz, valid) => {
    expect(isValidTimeZone(tz)).toBe(valid);
  });
});
