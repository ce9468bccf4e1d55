/**
 * One image file -> normalized CHW float32, as torchvision's default loader and transforms produce it:
 * Image.open(p).convert('RGB') -> [border crop] -> Resize(shorter side) -> CenterCrop -> ToTensor -> Normalize.
 * sharp only decodes (at full size, no colour management); the resize is PIL's, reproduced in resample.ts.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { PreprocessSpec } from '../io/featureManifest.js';
import { centerCropOffset, resizedSize } from './preprocessSpec.js';
import { resampleRgbWindow } from './resample.js';

export interface DecodedImage {
  /** crop*crop*3 interleaved RGB bytes after resize and crop. */
  rgb: Uint8Array;
  size: number;
}

/** A full-size decoded image: width*height*3 interleaved RGB bytes. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

const DECODE_OPTIONS = { failOn: 'error', limitInputPixels: 1 << 28, sequentialRead: true } as const;

/**
 * Decodes to full-size RGB the way PIL's convert('RGB') sees the file: embedded ICC profiles are ignored
 * (PIL ignores them; sharp would convert to sRGB), alpha is dropped without compositing, grey is replicated,
 * CMYK uses PIL's arithmetic instead of sharp's ICC transform. Throws (sharp's message) on a corrupt file.
 */
export async function decodeToRgb(input: string | Buffer, autoOrient: boolean): Promise<RgbImage> {
  const buf = typeof input === 'string' ? await readFile(input) : input;
  const opts = { ...DECODE_OPTIONS, autoOrient, ignoreIcc: true };
  // Only JPEG and TIFF carry CMYK; skip the header parse for everything else.
  if (mayBeCmyk(buf) && (await sharp(buf, opts).metadata()).space === 'cmyk') {
    const { data, info } = await sharp(buf, opts).pipelineColourspace('cmyk').toColourspace('cmyk').raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return { data: cmykToRgb(data, info.width * info.height, info.channels), width: info.width, height: info.height };
  }
  const { data, info } = await sharp(buf, opts).toColourspace('srgb').removeAlpha().raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const rgb = info.channels === 3 ? data : expandToRgb(data, info.width * info.height, info.channels);
  return { data: new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.length), width: info.width, height: info.height };
}

function mayBeCmyk(buf: Buffer): boolean {
  if (buf.length < 4) return true;
  const jpeg = buf[0] === 0xff && buf[1] === 0xd8;
  const tiff = (buf[0] === 0x49 && buf[1] === 0x49) || (buf[0] === 0x4d && buf[1] === 0x4d);
  return jpeg || tiff;
}

/** Pillow's cmyk2rgb (Convert.c): nk = 255 - K; R = nk - MULDIV255(C, nk), likewise G and B. */
export function cmykToRgb(cmyk: Uint8Array, pixels: number, channels: number): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    const s = i * channels;
    const nk = 255 - cmyk[s + 3]!;
    for (let c = 0; c < 3; c++) {
      const t = cmyk[s + c]! * nk + 128;
      const v = nk - (((t >> 8) + t) >> 8);
      out[i * 3 + c] = v < 0 ? 0 : v;
    }
  }
  return out;
}

function expandToRgb(data: Buffer, pixels: number, channels: number): Buffer {
  const out = Buffer.alloc(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    const g = data[i * channels]!;
    out[i * 3] = g;
    out[i * 3 + 1] = channels >= 3 ? data[i * channels + 1]! : g;
    out[i * 3 + 2] = channels >= 3 ? data[i * channels + 2]! : g;
  }
  return out;
}

/** Decodes and geometrically transforms one image; throws on a corrupt file or one too small to crop. */
export async function decodeAndCrop(input: string | Buffer, spec: PreprocessSpec): Promise<DecodedImage> {
  const img = await decodeToRgb(input, spec.autoOrient);
  const b = spec.borderCrop;
  if (img.width <= 2 * b || img.height <= 2 * b) {
    throw new Error(`image is ${img.width}x${img.height}, too small for a ${b}-pixel border crop`);
  }
  const width = img.width - 2 * b;
  const height = img.height - 2 * b;
  // resize >= crop (resolvePreprocess checks), so the crop never needs torchvision's padding.
  const target = resizedSize(width, height, spec.resize);
  const rgb = resampleRgbWindow(
    { data: img.data, stride: img.width * 3, left: b, top: b, width, height },
    {
      outWidth: target.width,
      outHeight: target.height,
      left: centerCropOffset(target.width, spec.crop),
      top: centerCropOffset(target.height, spec.crop),
      width: spec.crop,
      height: spec.crop,
    },
    spec.interpolation,
  );
  return { rgb, size: spec.crop };
}

/**
 * Writes HWC bytes as normalized CHW floats into `out` starting at `offset`. Each value is computed in float32
 * steps as torchvision does (x / 255, then - mean, then / std), so the floats are bit-identical to its tensors;
 * with 256 possible bytes per channel this is a table lookup.
 */
export function normalizeToChw(img: DecodedImage, spec: PreprocessSpec, out: Float32Array, offset: number): void {
  const hw = img.size * img.size;
  const rgb = img.rgb;
  const lut = new Float32Array(256);
  const f = Math.fround;
  for (let c = 0; c < 3; c++) {
    const mean = f(spec.mean[c]!);
    const std = f(spec.std[c]!);
    for (let v = 0; v < 256; v++) lut[v] = f(f(v / 255) - mean) / std;
    const base = offset + c * hw;
    for (let i = 0; i < hw; i++) out[base + i] = lut[rgb[i * 3 + c]!]!;
  }
}
