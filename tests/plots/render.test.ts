// Figure writers (src/plots/render.ts): self-contained HTML with plotly inlined, and PNG rendering that skips (does
// not throw) when no Chromium is available. The real PNG test runs only where a Chromium binary is installed.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  compactPng,
  tokensToPng,
  figureHtml,
  findChromium,
  galleryHtml,
  plotlyScript,
  renderPng,
  scriptJson,
  kitRootOf,
  writeFigureHtml,
  writeFigures,
} from '../../src/plots/render';
import type { Figure } from '../../src/plots/types';

const fig: Figure = {
  data: [{ type: 'bar', name: 'accuracy', x: ['introllm', 'fixed-1.0'], y: [0.5, 0.25] }],
  layout: { title: { text: 'a </script><!-- title' }, width: 400, height: 300 },
};

let dir: string;
const savedEnv = process.env.INTROLLM_CHROMIUM;
const chromium = findChromium(savedEnv ?? '/usr/bin/chromium').path;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'introllm-plots-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  if (savedEnv === undefined) delete process.env.INTROLLM_CHROMIUM;
  else process.env.INTROLLM_CHROMIUM = savedEnv;
});

describe('writeFigureHtml', () => {
  it('writes one self-contained file with plotly inlined and the figure JSON', () => {
    const file = path.join(dir, 'sub', 'acc.html');
    writeFigureHtml(file, fig, 'Accuracy & <CI>');
    const html = fs.readFileSync(file, 'utf8');
    expect(html).toContain('plotly.js v4.1.2');
    expect(html).toContain(plotlyScript().slice(-200));
    expect(html).not.toMatch(/<script[^>]+src=/); // nothing loaded from outside
    expect(html).toContain('<title>Accuracy &amp; &lt;CI&gt;</title>');
    expect(html).toContain(scriptJson(fig));
    expect(html).toContain('Plotly.newPlot("figure", fig.data, fig.layout');
    // the only '</script>' closing tags are the three of the document itself: the title text cannot close one
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    const json = /<script id="figure-data" type="application\/json">(.*?)<\/script>/s.exec(html)![1];
    expect(JSON.parse(json)).toEqual(fig);
    expect(fs.readdirSync(path.join(dir, 'sub'))).toEqual(['acc.html']); // no temp files left behind
  });

  it("a page inside the kit's results/ tree loads the kit's installed plotly by a relative src", () => {
    const kit = path.join(dir, 'kit');
    fs.mkdirSync(kit);
    fs.writeFileSync(path.join(kit, 'package.json'), JSON.stringify({ name: 'introllm-kit' }));
    const a = path.join(kit, 'results', 'tiny', 'figures', 'acc.html');
    const b = path.join(kit, 'results', 'ablations', 'tiny', 'gate', 'figures', 'ablation.html');
    expect(kitRootOf(a)).toBe(kit);
    writeFigureHtml(a, fig, 'acc');
    fs.mkdirSync(path.dirname(b), { recursive: true });
    fs.writeFileSync(b, galleryHtml([{ title: 'g', fig }], 'gallery', [], b));
    expect(fs.readFileSync(a, 'utf8')).toContain('<script src="../../../node_modules/plotly.js-dist-min/plotly.min.js"></script>');
    expect(fs.readFileSync(b, 'utf8')).toContain('<script src="../../../../../node_modules/plotly.js-dist-min/plotly.min.js"></script>');
    for (const f of [a, b]) expect(fs.statSync(f).size).toBeLessThan(10_000); // data only, no bundle
    // From the real kit's results/, the src resolves to the installed bundle.
    const real = path.join(__dirname, '..', '..', 'results', 'x', 'figures', 'p.html');
    const src = /src="([^"]+)"/.exec(figureHtml(fig, 't', real))![1];
    expect(fs.existsSync(path.resolve(path.dirname(real), src))).toBe(true);
  });

  it("a results/ folder that is not the kit's, and INTROLLM_PLOTLY=inline, inline the bundle", () => {
    const other = path.join(dir, 'other', 'results', 'figures', 'acc.html');
    expect(kitRootOf(other)).toBeNull();
    writeFigureHtml(other, fig, 'acc');
    expect(fs.readFileSync(other, 'utf8')).toContain(plotlyScript().slice(-200));
    const kit = path.join(dir, 'kit');
    fs.mkdirSync(kit);
    fs.writeFileSync(path.join(kit, 'package.json'), JSON.stringify({ name: 'introllm-kit' }));
    process.env.INTROLLM_PLOTLY = 'inline';
    try {
      expect(figureHtml(fig, 't', path.join(kit, 'results', 'x.html'))).toContain(plotlyScript().slice(-200));
    } finally {
      delete process.env.INTROLLM_PLOTLY;
    }
  });

  it('figureHtml is deterministic', () => {
    expect(figureHtml(fig, 't')).toBe(figureHtml(fig, 't'));
  });
});

describe('renderPng', () => {
  it('returns skipped, without throwing or writing, when the chromium path does not exist', async () => {
    process.env.INTROLLM_CHROMIUM = path.join(dir, 'no-such-chromium');
    expect(findChromium().path).toBeNull();
    const file = path.join(dir, 'acc.png');
    const r = await renderPng([{ file, fig }]);
    expect(r.rendered).toEqual([]);
    expect(r.skipped).toMatch(/no chromium executable at .*no-such-chromium/);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('writeFigures writes the HTML and reports the PNG skip', async () => {
    process.env.INTROLLM_CHROMIUM = path.join(dir, 'no-such-chromium');
    const r = await writeFigures(dir, [{ name: 'acc', title: 'Accuracy', fig }]);
    expect(r.html).toEqual([path.join(dir, 'acc.html')]);
    expect(fs.existsSync(path.join(dir, 'acc.html'))).toBe(true);
    expect(r.png.skipped).toMatch(/HTML only/);
    await expect(
      writeFigures(
        dir,
        [
          { name: 'a', title: '', fig },
          { name: 'a', title: '', fig },
        ],
        false,
      ),
    ).rejects.toThrow(/twice/);
    await expect(writeFigures(dir, [{ name: '../x', title: '', fig }], false)).rejects.toThrow(/letters/);
  });

  it('compactPng re-encodes a PNG as a palette PNG with the same size in pixels', async () => {
    const sharp = require('sharp');
    const rgba = await sharp({ create: { width: 64, height: 32, channels: 4, background: { r: 200, g: 30, b: 30, alpha: 1 } } })
      .png()
      .toBuffer();
    const out = await compactPng(rgba);
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height, meta.isPalette]).toEqual([64, 32, true]);
    const px = await sharp(out).raw().toBuffer();
    expect([...px.subarray(0, 3)]).toEqual([200, 30, 30]);
  });

  const trace = { problemId: 'p', correct: true, text: ['1', '+', '2'], tau: [0.5, 1, 1.5], gate: [1, 0, 1], entropy: [0.1, 0.2, 0.3] };
  it('tokensToPng returns null without a chromium, without throwing', async () => {
    process.env.INTROLLM_CHROMIUM = path.join(dir, 'no-such-chromium');
    expect(await tokensToPng(trace)).toBeNull();
  });
  it.skipIf(chromium === null)('tokensToPng draws the token view as a PNG of the asked width (device scale 2)', async () => {
    process.env.INTROLLM_CHROMIUM = chromium!;
    const png = (await tokensToPng(trace, { width: 400 }))!;
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBe(800);
  });

  it('does nothing for an empty list', async () => {
    expect(await renderPng([])).toEqual({ rendered: [], skipped: null });
  });

  it.skipIf(chromium === null)('renders PNGs with a real chromium', async () => {
    const files = [path.join(dir, 'a.png'), path.join(dir, 'b.png')];
    const r = await renderPng(
      files.map((file) => ({ file, fig })),
      { executablePath: chromium!, scale: 1 },
    );
    expect(r).toEqual({ rendered: files, skipped: null });
    for (const f of files) {
      const png = fs.readFileSync(f);
      expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      expect(png.readUInt32BE(16)).toBe(400); // IHDR width = layout width × scale 1
      expect(png.readUInt32BE(20)).toBe(300);
    }
  });
});
