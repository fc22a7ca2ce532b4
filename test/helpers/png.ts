// A PNG reader for the chart tests, written from the PNG specification (not from the encoder
// under test): chunks with their CRCs checked, IHDR, the IDAT stream inflated by node:zlib and each
// scanline's filter (None, Sub, Up, Average, Paeth) undone. 8-bit RGB and RGBA, not interlaced:
// what resvg writes.
import * as zlib from 'zlib';

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface DecodedPng {
  width: number;
  height: number;
  /** 3 (RGB) or 4 (RGBA) bytes a pixel, row-major. */
  channels: number;
  pixels: Uint8Array;
}

export function pngSize(buf: Buffer): { width: number; height: number } {
  if (!buf.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('not a PNG: bad signature');
  if (buf.toString('ascii', 12, 16) !== 'IHDR') throw new Error('not a PNG: the first chunk is not IHDR');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

export function decodePng(buf: Buffer): DecodedPng {
  const { width, height } = pngSize(buf);
  let at = 8;
  let channels = 0;
  const idat: Buffer[] = [];
  let ended = false;
  while (at < buf.length && !ended) {
    const len = buf.readUInt32BE(at);
    const type = buf.toString('ascii', at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + len);
    if (zlib.crc32(buf.subarray(at + 4, at + 8 + len)) !== buf.readUInt32BE(at + 8 + len)) throw new Error(`PNG chunk ${type}: bad CRC`);
    if (type === 'IHDR') {
      const [depth, colour, , , interlace] = data.subarray(8, 13);
      if (depth !== 8 || (colour !== 2 && colour !== 6) || interlace !== 0) throw new Error(`PNG: unsupported depth ${depth} / colour type ${colour} / interlace ${interlace}`);
      channels = colour === 6 ? 4 : 3;
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      ended = true;
    }
    at += 12 + len;
  }
  if (!ended) throw new Error('PNG: no IEND chunk');
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length !== (stride + 1) * height) throw new Error(`PNG: ${raw.length} bytes of scanlines, expected ${(stride + 1) * height}`);
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = y * stride;
    if (filter > 4) throw new Error(`PNG: unknown filter ${filter} on row ${y}`);
    for (let i = 0; i < stride; i++) {
      // a: the byte to the left, b: above, c: above-left (0 outside the image).
      const a = i >= channels ? pixels[row + i - channels] : 0;
      const b = y > 0 ? pixels[row - stride + i] : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) predictor = paeth(a, b, i >= channels && y > 0 ? pixels[row - stride + i - channels] : 0);
      pixels[row + i] = (line[i] + predictor) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

/** How many pixels have exactly this colour (alpha ignored). */
export function countColour(png: DecodedPng, hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let n = 0;
  for (let i = 0; i < png.pixels.length; i += png.channels) if (png.pixels[i] === r && png.pixels[i + 1] === g && png.pixels[i + 2] === b) n++;
  return n;
}

/** How many pixels satisfy `test` (r, g, b). */
export function countPixels(png: DecodedPng, test: (r: number, g: number, b: number) => boolean): number {
  let n = 0;
  for (let i = 0; i < png.pixels.length; i += png.channels) if (test(png.pixels[i], png.pixels[i + 1], png.pixels[i + 2])) n++;
  return n;
}
