import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MessageData, PUBLISHED_BY, SUBSCRIPTIONS, type MessageType } from '../src/messages.js';

const doc = readFileSync(new URL('../../../docs/architecture.md', import.meta.url), 'utf8');

/** The rows of the messages table in docs/architecture.md, between its two marker comments. */
function documentedRows(): string[] {
  const start = doc.indexOf('<!-- messages table');
  const end = doc.indexOf('<!-- end of messages table -->');
  expect(start, 'the messages table markers are in docs/architecture.md').toBeGreaterThan(-1);
  expect(end).toBeGreaterThan(start);
  return doc
    .slice(start, end)
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.replace(/\s*\|\s*/g, '|').trim());
}

describe('docs/architecture.md', () => {
  it('lists every message with the service that publishes it and those it is delivered to, as contracts declare', () => {
    const expected = (Object.keys(MessageData) as MessageType[]).map((type) => `|\`${type}\`|${PUBLISHED_BY[type]}|${SUBSCRIPTIONS[type].join(', ')}|`);
    expect(documentedRows()).toEqual(expected);
  });
});
