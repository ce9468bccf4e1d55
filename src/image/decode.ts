/**
 * One image file -> normalized CHW float32, as torchvision's default loader and transforms produce it:
 * Image.open(p).convert('RGB') -> [border crop] -> Resize(shorter side) -> CenterCrop -> ToTensor -> Normalize.
 * sharp only decodes (at full size, no colour management); the resize is PIL's, reproduced in resample.ts.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { PreprocessSpec } from '../image/preprocessSpec.js';
import { centerCropOffset, resizedSize } from './preprocessSpec.js';
import { resampleRgbWindow, type ResizeWindow, type RgbSource } from './resample.js';
import { WasmResampler } from './resampleWasm.js';

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
  if (mayBeCmyk(buf) && (await sharp(buf, opts).metadata()).space === 'cmyk') {
    const { data, info } = await sharp(buf, opts)
      .pipelineColourspace('cmyk')
      .toColourspace('cmyk')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return { data: cmykToRgb(data, info.width * info.height, info.channels), width: info.width, height: info.height };
  }
  const { data, info } = await sharp(buf, opts)
    .toColourspace('srgb')
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const rgb = info.channels === 3 ? data : expandToRgb(data, info.width * info.height, info.channels);
  return { data: new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.length), width: info.width, height: info.height };
}

/**
 * Whether the file may hold CMYK pixels, without sharp's header parse (~0.1-0.4 ms per image): only JPEG and
 * TIFF carry CMYK, and a JPEG only when its frame header (SOFn) declares 4 components.
 */
export function mayBeCmyk(buf: Uint8Array): boolean {
  if (buf.length < 4) return true;
  if ((buf[0] === 0x49 && buf[1] === 0x49) || (buf[0] === 0x4d && buf[1] === 0x4d)) return true;
  if (buf[0] !== 0xff || buf[1] !== 0xd8) return false;
  const components = jpegComponents(buf);
  return components === null || components === 4;
}

/** The component count in a JPEG's frame header, or null when the header cannot be found. */
export function jpegComponents(buf: Uint8Array): number | null {
  let p = 2;
  while (p + 3 < buf.length) {
    if (buf[p] !== 0xff) return null;
    const m = buf[p + 1]!;
    if (m === 0xff) {
      p++;
      continue;
    } // fill byte
    if (m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
      p += 2;
      continue;
    } // markers without a length
    if (m === 0xd9 || m === 0xda) return null; // end of image / start of scan before any frame header
    const len = (buf[p + 2]! << 8) | buf[p + 3]!;
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC): length, precision, height, width, components.
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc)
      return p + 9 < buf.length ? buf[p + 9]! : null;
    p += 2 + len;
  }
  return null;
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
      out[i * 3 + c] = Math.max(v, 0);
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

interface CropGeometry {
  src: RgbSource;
  win: ResizeWindow;
}

/** Where the border crop, resize and center crop of `spec` put the kept pixels of `img`. */
function cropGeometry(img: RgbImage, spec: PreprocessSpec): CropGeometry {
  const b = spec.borderCrop;
  if (img.width <= 2 * b || img.height <= 2 * b) {
    throw new Error(`image is ${img.width}x${img.height}, too small for a ${b}-pixel border crop`);
  }
  const width = img.width - 2 * b;
  const height = img.height - 2 * b;
  // resize >= crop (resolvePreprocess checks), so the crop never needs torchvision's padding.
  const target = resizedSize(width, height, spec.resize);
  return {
    src: { data: img.data, stride: img.width * 3, left: b, top: b, width, height },
    win: {
      outWidth: target.width,
      outHeight: target.height,
      left: centerCropOffset(target.width, spec.crop),
      top: centerCropOffset(target.height, spec.crop),
      width: spec.crop,
      height: spec.crop,
    },
  };
}

/** Decodes and geometrically transforms one image; throws on a corrupt file or one too small to crop. */
export async function decodeAndCrop(input: string | Buffer, spec: PreprocessSpec): Promise<DecodedImage> {
  const { src, win } = cropGeometry(await decodeToRgb(input, spec.autoOrient), spec);
  return { rgb: resampleRgbWindow(src, win, spec.interpolation), size: spec.crop };
}

let wasm: WasmResampler | null | undefined;
// WebAssembly memory grows to the largest image seen and never shrinks: sources past ~48 MP (144 MB of RGB)
// take the JavaScript path instead, so one huge file does not pin that much memory per decode worker.
const WASM_MAX_SOURCE_BYTES = 144 << 20;

/**
 * decodeAndCrop + normalizeToChw in one step: the [3, crop, crop] tensor. Runs the WebAssembly kernels
 * (same bytes and floats, ~4x less CPU) where the runtime has WebAssembly SIMD, else the JavaScript reference.
 */
export async function decodeToChw(input: string | Buffer, spec: PreprocessSpec): Promise<Float32Array> {
  const out = new Float32Array(3 * spec.crop * spec.crop);
  await decodeToChwInto(input, spec, out, 0);
  return out;
}

/** decodeToChw, written into `out` from float index `offset` (a slot of a batch buffer). */
export async function decodeToChwInto(
  input: string | Buffer,
  spec: PreprocessSpec,
  out: Float32Array,
  offset: number,
): Promise<void> {
  const { src, win } = cropGeometry(await decodeToRgb(input, spec.autoOrient), spec);
  if (wasm === undefined) wasm = WasmResampler.load();
  if (wasm && src.stride * src.height <= WASM_MAX_SOURCE_BYTES) {
    wasm.resampleToChwInto(src, win, spec.interpolation, normalizeLut(spec), out, offset);
    return;
  }
  normalizeToChw({ rgb: resampleRgbWindow(src, win, spec.interpolation), size: spec.crop }, spec, out, offset);
}

const lutCache = new Map<string, Float32Array>();

/**
 * The normalized float of each byte value, per channel ([3][256]), computed in float32 steps as torchvision
 * does (x / 255, then - mean, then / std), so the floats are bit-identical to its tensors.
 */
export function normalizeLut(spec: PreprocessSpec): Float32Array {
  const key = `${spec.mean.join(',')}/${spec.std.join(',')}`;
  let lut = lutCache.get(key);
  if (!lut) {
    lut = new Float32Array(768);
    const f = Math.fround;
    for (let c = 0; c < 3; c++) {
      const mean = f(spec.mean[c]!);
      const std = f(spec.std[c]!);
      for (let v = 0; v < 256; v++) lut[c * 256 + v] = f(f(v / 255) - mean) / std;
    }
    lutCache.set(key, lut);
  }
  return lut;
}

/** Writes HWC bytes as normalized CHW floats (normalizeLut) into `out` starting at `offset`. */
export function normalizeToChw(img: DecodedImage, spec: PreprocessSpec, out: Float32Array, offset: number): void {
  const hw = img.size * img.size;
  const rgb = img.rgb;
  const lut = normalizeLut(spec);
  for (let c = 0; c < 3; c++) {
    const base = offset + c * hw;
    const l = c * 256;
    for (let i = 0; i < hw; i++) out[base + i] = lut[l + rgb[i * 3 + c]!]!;
  }
}
