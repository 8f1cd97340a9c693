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
 * The generated cover of an event without a banner, as a CSS background: two soft highlights over a
 * diagonal gradient, all derived from the event id, so the same event looks the same on every page and
 * device with no image to download. Colours stay dark enough (lightness ≤ 42%) that white text on them
 * keeps at least 4.5:1 contrast.
 */
export function coverBackground(id: string): string {
  const h = hash(id);
  const hue1 = h % 360;
  const hue2 = (hue1 + 40 + ((h >>> 9) % 80)) % 360;
  const angle = 110 + ((h >>> 17) % 100);
  // Highlight positions from bits the hues and angle do not use, so covers of similar hue still differ.
  const x = 10 + ((h >>> 24) % 30);
  const y = 10 + ((h >>> 4) % 40);
  return [
    `radial-gradient(circle at ${x}% ${y}%, hsl(${hue2} 90% 70% / 0.35), transparent 45%)`,
    `radial-gradient(circle at ${100 - x}% ${100 - y}%, hsl(${hue1} 90% 15% / 0.45), transparent 55%)`,
    `linear-gradient(${angle}deg, hsl(${hue1} 70% 34%), hsl(${hue2} 65% 42%))`,
  ].join(', ');
}

/** Up to two initials from the title's first words ("Harbour Lights Jazz" → "HL"); words without a letter or digit are skipped. */
export function coverInitials(title: string): string {
  return title
    .split(/\s+/)
    .map((word) => Array.from(word).find((ch) => /[\p{L}\p{N}]/u.test(ch)))
    .filter((ch): ch is string => ch !== undefined)
    .slice(0, 2)
    .join('')
    .toLocaleUpperCase();
}
