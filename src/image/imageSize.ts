/**
 * Image dimensions from the first bytes of a PNG, JPEG or WebP file, without decoding: the decode pool admits
 * images by the pixels they will occupy once decoded (extract/pixelBudget.ts).
 */

/** width*height declared by the header, or null when the bytes are not a header this reads (or are cut short). */
export function headerPixels(b: Uint8Array): number | null {
  const dims = headerSize(b);
  return dims ? dims.width * dims.height : null;
}

export function headerSize(b: Uint8Array): { width: number; height: number } | null {
  const u32be = (p: number): number => ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  const u16be = (p: number): number => (b[p]! << 8) | b[p + 1]!;
  const u16le = (p: number): number => b[p]! | (b[p + 1]! << 8);
  const u24le = (p: number): number => b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16);
  // PNG: signature, then the IHDR chunk (width, height big-endian at 16 and 20).
  if (b.length >= 24 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47)
    return { width: u32be(16), height: u32be(20) };
  // JPEG: walk the markers to the frame header (SOFn: length, precision, height, width).
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
    let p = 2;
    while (p + 8 < b.length) {
      if (b[p] !== 0xff) return null;
      const m = b[p + 1]!;
      if (m === 0xff) {
        p++;
        continue;
      }
      if (m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
        p += 2;
        continue;
      }
      if (m === 0xd9 || m === 0xda) return null;
      if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc)
        return { width: u16be(p + 7), height: u16be(p + 5) };
      p += 2 + u16be(p + 2);
    }
    return null;
  }
  // WebP: RIFF....WEBP then VP8 (lossy), VP8L (lossless) or VP8X (extended) chunk.
  if (b.length >= 30 && String.fromCharCode(b[0]!, b[1]!, b[2]!, b[3]!, b[8]!, b[9]!, b[10]!, b[11]!) === 'RIFFWEBP') {
    const fourcc = String.fromCharCode(b[12]!, b[13]!, b[14]!, b[15]!);
    if (fourcc === 'VP8 ') return { width: u16le(26) & 0x3fff, height: u16le(28) & 0x3fff };
    if (fourcc === 'VP8L') {
      const v = (b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24)) >>> 0;
      return { width: (v & 0x3fff) + 1, height: ((v >>> 14) & 0x3fff) + 1 };
    }
    if (fourcc === 'VP8X') return { width: u24le(24) + 1, height: u24le(27) + 1 };
  }
  return null;
}
