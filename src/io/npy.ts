/**
 * NumPy .npy (format 1.0) codec: enough of the format for fcprobe's C-ordered little-endian arrays.
 * Writers reserve a fixed 128-byte header so that rows can be streamed to disk before N is known and the
 * header patched at the end: the bytes of a finished file do not depend on how it was written.
 */
import { closeSync, fstatSync, openSync, read, readSync, writeSync, ftruncateSync, fsyncSync } from 'node:fs';
import { FcprobeError } from '../errors.js';

export type NpyDtype = '<f4' | '<f8' | '<i8' | '<i4' | '<u1' | '<f2';

export interface NpyHeader {
  dtype: NpyDtype;
  shape: number[];
  fortranOrder: boolean;
  /** Byte offset of the first data byte. */
  dataOffset: number;
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
export const NPY_HEADER_BYTES = 128;

export function bytesPerElement(dtype: NpyDtype): number {
  switch (dtype) {
    case '<f4':
    case '<i4':
      return 4;
    case '<f8':
    case '<i8':
      return 8;
    case '<f2':
      return 2;
    case '<u1':
      return 1;
  }
}

/** The 128-byte header (magic, version 1.0, length, dict padded with spaces, newline). */
export function encodeNpyHeader(dtype: NpyDtype, shape: readonly number[]): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const dictBytes = NPY_HEADER_BYTES - 10;
  if (dict.length + 1 > dictBytes) throw new RangeError(`npy header too long for shape ${shapeText}`);
  const header = Buffer.alloc(NPY_HEADER_BYTES, 0x20);
  MAGIC.copy(header, 0);
  header[6] = 1;
  header[7] = 0;
  header.writeUInt16LE(dictBytes, 8);
  header.write(dict, 10, 'latin1');
  header[NPY_HEADER_BYTES - 1] = 0x0a;
  return header;
}

export function parseNpyHeader(buf: Buffer, where = 'npy file'): NpyHeader {
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) {
    throw new FcprobeError('BAD_FEATURES', `${where} is not a NumPy .npy file (bad magic).`);
  }
  const major = buf[6];
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    start = 10;
  } else if (major === 2 || major === 3) {
    headerLen = buf.readUInt32LE(8);
    start = 12;
  } else throw new FcprobeError('BAD_FEATURES', `${where}: unsupported .npy version ${major}.`);
  if (buf.length < start + headerLen) throw new FcprobeError('BAD_FEATURES', `${where}: truncated .npy header.`);
  const text = buf.subarray(start, start + headerLen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(text)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new FcprobeError('BAD_FEATURES', `${where}: unreadable .npy header ${JSON.stringify(text.trim())}.`);
  }
  const known: NpyDtype[] = ['<f4', '<f8', '<i8', '<i4', '<u1', '<f2'];
  const dtype = (descr === '|u1' ? '<u1' : descr) as NpyDtype;
  if (!known.includes(dtype)) throw new FcprobeError('BAD_FEATURES', `${where}: unsupported dtype ${descr}.`);
  const dims = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  // A negative or fractional axis made the reader size a buffer from it (exit 6, ERR_OUT_OF_RANGE): a damaged
  // header is a bad-features error naming the file.
  const badDim = dims.find((s) => !/^\d+$/.test(s) || !Number.isSafeInteger(Number(s)));
  if (badDim !== undefined)
    throw new FcprobeError(
      'BAD_FEATURES',
      `${where}: the .npy shape (${shapeText.trim()}) has the axis ${badDim}, not a non-negative integer.`,
    );
  const shape = dims.map(Number);
  return { dtype, shape, fortranOrder: fortran === 'True', dataOffset: start + headerLen };
}

export type NpyArray =
  | { dtype: '<f4'; shape: number[]; data: Float32Array }
  | { dtype: '<f8'; shape: number[]; data: Float64Array }
  | { dtype: '<i8'; shape: number[]; data: BigInt64Array }
  | { dtype: '<i4'; shape: number[]; data: Int32Array }
  | { dtype: '<u1'; shape: number[]; data: Uint8Array }
  | { dtype: '<f2'; shape: number[]; data: Uint16Array };

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * A read into `out`'s memory must stay inside `out`: a view of a larger buffer (a WebAssembly memory, a block
 * buffer) would otherwise be overwritten past its end without an error.
 */
function checkRoom(out: Float32Array, values: number): void {
  if (out.length < values) throw new RangeError(`read of ${values} values into an array of ${out.length}`);
}

/** Random access to a (possibly huge) .npy file without loading it: rows are read on demand. */
export class NpyReader {
  readonly header: NpyHeader;
  readonly path: string;
  private fd: number;
  constructor(path: string) {
    this.path = path;
    this.fd = openSync(path, 'r');
    const head = Buffer.alloc(Math.min(4096, fstatSync(this.fd).size));
    readSync(this.fd, head, 0, head.length, 0);
    this.header = parseNpyHeader(head, path);
    if (this.header.fortranOrder)
      throw new FcprobeError('BAD_FEATURES', `${path}: Fortran-ordered arrays are not supported.`);
    const expected = this.header.dataOffset + product(this.header.shape) * bytesPerElement(this.header.dtype);
    const size = fstatSync(this.fd).size;
    if (size < expected) {
      throw new FcprobeError('BAD_FEATURES', `${path} is truncated: ${size} bytes, header promises ${expected}.`);
    }
  }
  get rows(): number {
    return this.header.shape[0] ?? 1;
  }
  get rowLength(): number {
    return product(this.header.shape.slice(1));
  }
  /** Reads rows [start, start+count) into the raw bytes of a fresh buffer. */
  readRowBytes(start: number, count: number): Buffer {
    const bpr = this.rowLength * bytesPerElement(this.header.dtype);
    return this.readInto(Buffer.alloc(count * bpr), start * bpr);
  }
  /** Fills `buf` from data byte `at` on (a short read continues; the end of the file is BAD_FEATURES). */
  private readInto(buf: Buffer, at: number): Buffer {
    let off = 0;
    while (off < buf.length) {
      const n = readSync(this.fd, buf, off, buf.length - off, this.header.dataOffset + at + off);
      if (n === 0) throw new FcprobeError('BAD_FEATURES', `${this.path}: unexpected end of file.`);
      off += n;
    }
    return buf;
  }
  /** float32 rows [start, start+count) of a '<f4' array, into `out` if given. */
  readFloat32Rows(start: number, count: number, out?: Float32Array): Float32Array {
    if (this.header.dtype !== '<f4')
      throw new FcprobeError('BAD_FEATURES', `${this.path}: expected float32, found ${this.header.dtype}.`);
    if (!out) {
      const bytes = this.readRowBytes(start, count);
      return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    }
    // Straight into `out`'s memory: no zero-filled buffer and no second copy (the streamed scans read GBs).
    const bpr = this.rowLength * 4;
    checkRoom(out, count * this.rowLength);
    this.readInto(Buffer.from(out.buffer, out.byteOffset, count * bpr), start * bpr);
    return out;
  }
  /**
   * readFloat32Rows into `out`, asynchronously (libuv's thread pool reads while the caller computes: the
   * streamed solvers' read-ahead). The bytes go straight into `out`'s memory; the caller must not touch
   * `out` until the promise settles. Throws FcprobeError BAD_FEATURES on a short file or another dtype.
   */
  async readFloat32RowsAsync(start: number, count: number, out: Float32Array): Promise<void> {
    if (this.header.dtype !== '<f4')
      throw new FcprobeError('BAD_FEATURES', `${this.path}: expected float32, found ${this.header.dtype}.`);
    const bpr = this.rowLength * 4;
    checkRoom(out, count * this.rowLength);
    const buf = Buffer.from(out.buffer, out.byteOffset, count * bpr);
    let off = 0;
    while (off < buf.length) {
      const n = await new Promise<number>((resolve, reject) =>
        read(this.fd, buf, off, buf.length - off, this.header.dataOffset + start * bpr + off, (e, b) =>
          e ? reject(e) : resolve(b),
        ),
      );
      if (n === 0) throw new FcprobeError('BAD_FEATURES', `${this.path}: unexpected end of file.`);
      off += n;
    }
  }
  close(): void {
    closeSync(this.fd);
  }
}

export function readNpy(path: string): NpyArray {
  const r = new NpyReader(path);
  try {
    const bytes = r.readRowBytes(0, r.rows);
    // Copy into an aligned buffer: Buffer pools may be mis-aligned for 8-byte views.
    const ab = new ArrayBuffer(bytes.length);
    new Uint8Array(ab).set(bytes);
    const shape = r.header.shape;
    switch (r.header.dtype) {
      case '<f4':
        return { dtype: '<f4', shape, data: new Float32Array(ab) };
      case '<f8':
        return { dtype: '<f8', shape, data: new Float64Array(ab) };
      case '<i8':
        return { dtype: '<i8', shape, data: new BigInt64Array(ab) };
      case '<i4':
        return { dtype: '<i4', shape, data: new Int32Array(ab) };
      case '<u1':
        return { dtype: '<u1', shape, data: new Uint8Array(ab) };
      case '<f2':
        return { dtype: '<f2', shape, data: new Uint16Array(ab) };
    }
  } finally {
    r.close();
  }
}

export function readFloat32Matrix(path: string): { rows: number; cols: number; data: Float32Array } {
  const a = readNpy(path);
  if (a.dtype !== '<f4' || a.shape.length !== 2) {
    throw new FcprobeError(
      'BAD_FEATURES',
      `${path}: expected a float32 [N, D] array, found ${a.dtype} ${JSON.stringify(a.shape)}.`,
    );
  }
  return { rows: a.shape[0]!, cols: a.shape[1]!, data: a.data };
}

/** int64 labels as plain int32 (class counts fit). */
export function readLabels(path: string): Int32Array {
  const a = readNpy(path);
  if (a.dtype === '<i8') return Int32Array.from(a.data, (v) => Number(v));
  if (a.dtype === '<i4') return a.data;
  throw new FcprobeError('BAD_FEATURES', `${path}: expected int64 labels, found ${a.dtype}.`);
}

function typedBytes(data: ArrayBufferView): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Writes a complete array in one go (small outputs: weights, predictions). */
export function encodeNpy(dtype: NpyDtype, shape: readonly number[], data: ArrayBufferView): Buffer {
  const expected = product(shape) * bytesPerElement(dtype);
  if (data.byteLength !== expected)
    throw new RangeError(`npy data has ${data.byteLength} bytes, shape needs ${expected}`);
  return Buffer.concat([encodeNpyHeader(dtype, shape), typedBytes(data)]);
}

/**
 * Appends rows to an open .npy file whose header is patched by `finish`. Resumable: `openAt(rows)` truncates
 * whatever follows the last committed row (a half-written batch from a killed process) and continues there.
 */
export class NpyRowWriter {
  private fd: number;
  private closed = false;
  private rowsWritten: number;
  constructor(
    readonly path: string,
    readonly dtype: NpyDtype,
    readonly rowShape: readonly number[],
    startRows = 0,
    fresh = true,
  ) {
    this.fd = openSync(path, fresh ? 'w' : 'r+');
    this.rowsWritten = startRows;
    const keep = NPY_HEADER_BYTES + startRows * this.rowBytes;
    if (!fresh && fstatSync(this.fd).size < keep) {
      // ftruncate would pad the missing rows with zeros: rows that were never written must not appear.
      const size = fstatSync(this.fd).size;
      closeSync(this.fd);
      throw new FcprobeError('BAD_FEATURES', `${path} is ${size} bytes, shorter than its ${startRows} committed rows.`);
    }
    if (fresh) writeSync(this.fd, encodeNpyHeader(dtype, [0, ...rowShape]), 0, NPY_HEADER_BYTES, 0);
    ftruncateSync(this.fd, keep);
  }
  get rowBytes(): number {
    return product(this.rowShape) * bytesPerElement(this.dtype);
  }
  get rows(): number {
    return this.rowsWritten;
  }
  append(data: ArrayBufferView, rows: number): void {
    if (data.byteLength !== rows * this.rowBytes)
      throw new RangeError(`append: ${data.byteLength} bytes for ${rows} rows of ${this.rowBytes}`);
    const b = typedBytes(data);
    let off = 0;
    const pos = NPY_HEADER_BYTES + this.rowsWritten * this.rowBytes;
    while (off < b.length) off += writeSync(this.fd, b, off, b.length - off, pos + off);
    this.rowsWritten += rows;
  }
  /** Durably stores what was appended so far (called before progress is recorded as committed). */
  sync(): void {
    fsyncSync(this.fd);
  }
  /** Patches the header with the final row count, syncs and closes. */
  finish(): void {
    writeSync(this.fd, encodeNpyHeader(this.dtype, [this.rowsWritten, ...this.rowShape]), 0, NPY_HEADER_BYTES, 0);
    fsyncSync(this.fd);
    this.close();
  }
  /** Closes the file; a second call (cleanup after finish or after a failed write) does nothing. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}
