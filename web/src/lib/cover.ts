/** A stable hash of a string (FNV-1a), so an event always gets the same generated cover. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * A CSS gradient derived from the event id for events without a banner. Colours stay dark enough
 * (lightness ≤ 42%) that white text on them keeps at least 4.5:1 contrast.
 */
export function coverGradient(id: string): string {
  const h = hash(id);
  const hue1 = h % 360;
  const hue2 = (hue1 + 40 + ((h >>> 9) % 80)) % 360;
  const angle = 110 + ((h >>> 17) % 100);
  return `linear-gradient(${angle}deg, hsl(${hue1} 70% 34%), hsl(${hue2} 65% 42%))`;
}
