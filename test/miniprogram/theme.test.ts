import fs from 'fs';
import path from 'path';
import zlib from 'zlib';
import { toOrderView } from '../../miniprogram/services/orders';
import type { OrderStatus } from '../../typings/api';

const MINIPROGRAM = path.resolve(__dirname, '../../miniprogram');
const app = JSON.parse(fs.readFileSync(path.join(MINIPROGRAM, 'app.json'), 'utf8')) as {
  tabBar: { color: string; selectedColor: string; list: { pagePath: string; iconPath: string; selectedIconPath: string }[] };
};

/** The value of a custom property set in app.wxss's `page` rule. */
function themeVariable(name: string): string {
  const css = fs.readFileSync(path.join(MINIPROGRAM, 'app.wxss'), 'utf8');
  const match = new RegExp(`(?<![\\w-])${name}:\\s*([^;]+);`).exec(css);
  if (!match) throw new Error(`app.wxss sets no ${name}`);
  return match[1].trim();
}

/** The colour a Vant variable ends up as: app.wxss's value, followed through var(), or Vant's own default. */
function resolvedColour(name: string, vantDefault: string): string {
  let value: string;
  try {
    value = themeVariable(name);
  } catch {
    return vantDefault;
  }
  const reference = /^var\((--[\w-]+)\)$/.exec(value);
  return reference ? resolvedColour(reference[1], vantDefault) : value.toLowerCase();
}

/** An 8-bit RGBA, non-interlaced PNG (what scripts/make-tab-icons.js writes), decoded to pixels. */
function readPng(file: string): { width: number; height: number; pixels: Buffer } {
  const data = fs.readFileSync(file);
  const width = data.readUInt32BE(16);
  const height = data.readUInt32BE(20);
  if (data[24] !== 8 || data[25] !== 6 || data[28] !== 0) throw new Error(`${file}: not an 8-bit RGBA non-interlaced PNG`);
  const idat: Buffer[] = [];
  for (let at = 8; at < data.length; ) {
    const length = data.readUInt32BE(at);
    if (data.toString('latin1', at + 4, at + 8) === 'IDAT') idat.push(data.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  const pixels = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const byte = raw[y * (stride + 1) + 1 + x];
      const a = x >= 4 ? pixels[y * stride + x - 4] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= 4 && y > 0 ? pixels[(y - 1) * stride + x - 4] : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const predicted = [0, a, b, (a + b) >> 1, paeth][filter];
      pixels[y * stride + x] = (byte + predicted) & 0xff;
    }
  }
  return { width, height, pixels };
}

/** The colour of a glyph: the most common fully opaque pixel, as #rrggbb. */
function glyphColour(file: string): string {
  const { pixels } = readPng(file);
  const counts = new Map<string, number>();
  for (let i = 0; i < pixels.length; i += 4) {
    if (pixels[i + 3] !== 255) continue;
    const hex = `#${[pixels[i], pixels[i + 1], pixels[i + 2]].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
    counts.set(hex, (counts.get(hex) || 0) + 1);
  }
  return [...counts.entries()].sort((x, y) => y[1] - x[1])[0][0];
}

describe('the theme', () => {
  test('the four order statuses get four different colours from it', () => {
    // Vant's plain tags are coloured by --tag-<type>-color (Vant's defaults where app.wxss sets none).
    const VANT_DEFAULTS: Record<string, string> = { default: '#969799', primary: '#1989fa', success: '#07c160', warning: '#ff976a', danger: '#ee0a24' };
    const statuses: OrderStatus[] = ['pending', 'paid', 'shipped', 'completed'];
    const colours = statuses.map((status) => {
      const { statusType } = toOrderView({ id: 'o', title: 't', amountFen: 1, status, createdAt: 0 });
      return resolvedColour(`--tag-${statusType}-color`, VANT_DEFAULTS[statusType]);
    });
    expect(new Set(colours).size).toBe(4);
    // On its way is the app's own colour; finished steps back to grey.
    expect(colours[2]).toBe(themeVariable('--primary-color').toLowerCase());
    expect(colours[3]).toBe('#969799');
  });

  test('the selected tab has the primary colour that app.wxss gives Vant', () => {
    expect(app.tabBar.selectedColor.toLowerCase()).toBe(themeVariable('--primary-color').toLowerCase());
  });

  test.each(app.tabBar.list.flatMap((item) => [
    [item.iconPath, app.tabBar.color],
    [item.selectedIconPath, app.tabBar.selectedColor],
  ]))('tab icon %s is an 81×81 PNG drawn in %s (re-run scripts/make-tab-icons.js after a colour change)', (icon, colour) => {
    const file = path.join(MINIPROGRAM, icon);
    const { width, height } = readPng(file);
    expect([width, height]).toEqual([81, 81]);
    expect(glyphColour(file)).toBe(colour.toLowerCase());
  });
});
