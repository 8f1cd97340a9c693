import { describe, expect, it, vi } from 'vitest';

// The random bytes are fixed here so the code they print as can be checked bit by bit.
vi.mock('node:crypto', async (importOriginal) => ({
  ...(await importOriginal<typeof import('node:crypto')>()),
  randomBytes: () => Buffer.from([0xff, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]),
}));

const { newTicketCode } = await import('../src/domain/ticket-code.js');

describe('a ticket code', () => {
  it('prints its 80 bits five at a time, most significant first, in unambiguous letters and digits grouped in fours', () => {
    // 11111 11100 00000 00000 00010 01000 11010 00101 01100 11110 00100 11010 10111 10011 01111 01111
    expect(newTicketCode()).toBe('DEMS-96AA-CJ4F-N8E4-ZVRR');
  });
});
