/**
 * One image file -> normalized CHW float32, as PIL + torchvision.transforms would produce it:
 * decode at full size (no shrink-on-load), RGB, optional border crop, resize of the shorter side with an
 * antialiasing kernel, center crop, (x / 255 - mean) / std.
 */
import sharp from 'sharp';
import type { PreprocessSpec } from '../io/featureManifest.js';
import { centerCropOffset, resizedSize } from './preprocessSpec.js';

export interface DecodedImage {
  /** crop*crop*3 interleaved RGB bytes after resize and crop. */
  rgb: Uint8Array;
  size: number;
}

/** Decodes and geometrically transforms one image; throws (sharp's message) on a corrupt file. */
export async function decodeAndCrop(input: string | Buffer, spec: PreprocessSpec): Promise<DecodedImage> {
  // Stage 1: full-resolution decode to raw RGB. Doing the resize in the same pipeline would let libvips
  // shrink JPEGs by 2/4/8 on load, which PIL does not do.
  let img = sharp(input, { failOn: 'error', limitInputPixels: 1 << 28, sequentialRead: true });
  if (spec.autoOrient) img = img.rotate();
  const { data, info } = await img.toColourspace('srgb').removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  let width = info.width;
  let height = info.height;
  let channels = info.channels;
  let pixels: Buffer = data;
  if (channels !== 3) {
    // Grey (1 channel) comes through as is with some inputs: replicate like PIL's convert('RGB').
    pixels = expandToRgb(data, width * height, channels);
    channels = 3;
  }
  let raw = sharp(pixels, { raw: { width, height, channels: 3 } });
  if (spec.borderCrop > 0) {
    const b = spec.borderCrop;
    if (width <= 2 * b || height <= 2 * b) throw new Error(`image is ${width}x${height}, too small for a ${b}-pixel border crop`);
    raw = sharp(await raw.extract({ left: b, top: b, width: width - 2 * b, height: height - 2 * b }).raw().toBuffer(), {
      raw: { width: width - 2 * b, height: height - 2 * b, channels: 3 },
    });
    width -= 2 * b;
    height -= 2 * b;
  }
  const target = resizedSize(width, height, spec.resize);
  const kernel = spec.interpolation === 'bicubic' ? sharp.kernel.cubic : sharp.kernel.linear;
  const resized = await raw
    .resize(target.width, target.height, { kernel, fit: 'fill', fastShrinkOnLoad: false })
    .raw()
    .toBuffer();
  const left = centerCropOffset(target.width, spec.crop);
  const top = centerCropOffset(target.height, spec.crop);
  const rgb = new Uint8Array(spec.crop * spec.crop * 3);
  for (let y = 0; y < spec.crop; y++) {
    const src = ((top + y) * target.width + left) * 3;
    rgb.set(resized.subarray(src, src + spec.crop * 3), y * spec.crop * 3);
  }
  return { rgb, size: spec.crop };
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

/** Writes HWC bytes as normalized CHW floats into `out` starting at `offset`. */
export function normalizeToChw(img: DecodedImage, spec: PreprocessSpec, out: Float32Array, offset: number): void {
  const hw = img.size * img.size;
  const rgb = img.rgb;
  for (let c = 0; c < 3; c++) {
    const scale = 1 / (255 * spec.std[c]!);
    const shift = spec.mean[c]! / spec.std[c]!;
    const base = offset + c * hw;
    for (let i = 0; i < hw; i++) out[base + i] = rgb[i * 3 + c]! * scale - shift;
  }
}
