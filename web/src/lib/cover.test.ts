import { describe, expect, it } from 'vitest';
import { coverBackground, coverInitials } from './cover';

describe('generated cover', () => {
  it('is the same for the same event every time, and differs between events', () => {
    expect(coverBackground('evt_01HXA')).toBe(coverBackground('evt_01HXA'));
    const many = new Set(Array.from({ length: 50 }, (_, i) => coverBackground(`evt_${i}`)));
    expect(many.size).toBe(50);
  });

  it('keeps its base colours dark enough for white text (lightness at most 42%)', () => {
    for (let i = 0; i < 200; i++) {
      const base = /linear-gradient\((\d+)deg, hsl\((\d+) (\d+)% (\d+)%\), hsl\((\d+) (\d+)% (\d+)%\)\)$/.exec(coverBackground(`event-${i}`));
      expect(base, coverBackground(`event-${i}`)).not.toBeNull();
      const [, angle, hue1, , light1, hue2, , light2] = base!.map(Number);
      expect(Number(light1)).toBeLessThanOrEqual(42);
      expect(Number(light2)).toBeLessThanOrEqual(42);
      expect(hue1).toBeLessThan(360);
      expect(hue2).toBeLessThan(360);
      expect(angle).toBeGreaterThanOrEqual(110);
      expect(angle).toBeLessThan(210);
    }
  });

  it('takes up to two initials from the first words of the title, skipping symbols', () => {
    expect(coverInitials('Harbour Lights Jazz Quartet')).toBe('HL');
    expect(coverInitials('  jazz  ')).toBe('J');
    expect(coverInitials('🎉 party (after) hours')).toBe('PA');
    expect(coverInitials('10k run')).toBe('1R');
    expect(coverInitials('école d’été')).toBe('ÉD');
    expect(coverInitials('— & —')).toBe('');
  });
});
