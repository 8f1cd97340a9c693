import { randomBytes } from 'node:crypto';

const BASE32 = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'; // no I, O, 0, 1: a code read aloud or typed is not misread

/**
 * The printable code a ticket's QR encodes: 80 random bits, so guessing a valid code is hopeless,
 * grouped in fours so a person at the door can type it (e.g. DEMS-7K3M-Q9XA-P2RT-WV5C).
 */
export function newTicketCode(): string {
  const bytes = randomBytes(10);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return `DEMS-${out.match(/.{4}/g)!.join('-')}`;
}
