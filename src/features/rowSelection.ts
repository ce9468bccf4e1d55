/**
 * A view of some rows of a feature directory, without copying them: the parts of a seeded ID split (`run
 * --split`, `--seeds`) are row selections of the one extracted ID folder, so that every seed reads the same
 * features.npy and no part is ever written again (real ID folders are 10+ GB).
 */
import { createHash } from 'node:crypto';
import type { FeatureRowReader, FeatureSet } from './manifest.js';

/** At most this many consecutive rows are read at once to serve a run of selected rows (bounded scratch). */
const MAX_SPAN_ROWS = 256;
/** Selected rows at most this far apart share one read (the rows between are read and dropped). */
const MAX_GAP_ROWS = 8;

/**
 * The rows `rows` (strictly ascending indices into `set`) of a feature set, as a FeatureSet of rows.length rows:
 * its manifest lists only those files (row i of the view is row rows[i] of `set`), `open()` gathers them in
 * bounded reads (at most MAX_SPAN_ROWS rows of scratch per call), `labels()` gathers the labels. `dir` stays
 * the folder's (messages name it); the manifest's key is the folder's, so use {@link selectionSha256} to
 * record which rows.
 *
 * @throws RangeError when `rows` is not strictly ascending within [0, set.rows) (a caller bug, not user input).
 */
export function selectRows(set: FeatureSet, rows: Int32Array): FeatureSet {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (r < 0 || r >= set.rows || (i > 0 && r <= rows[i - 1]!))
      throw new RangeError(`selectRows: row ${r} at ${i} is out of order or outside [0, ${set.rows})`);
  }
  const files = set.manifest.files;
  return {
    dir: set.dir,
    manifest: { ...set.manifest, files: Array.from(rows, (r) => files[r] ?? String(r)), rows: rows.length },
    rows: rows.length,
    dim: set.dim,
    open: () => new SelectedRowReader(set.open(), rows, set.dim),
    labels: () => {
      const all = set.labels();
      return Int32Array.from(rows, (r) => all[r]!);
    },
  };
}

/** SHA-256 (hex) of the selected row indices as little-endian int32: which rows a probe was fitted on. */
export function selectionSha256(rows: Int32Array): string {
  const le = new Uint8Array(rows.length * 4);
  const view = new DataView(le.buffer);
  for (let i = 0; i < rows.length; i++) view.setInt32(i * 4, rows[i]!, true);
  return createHash('sha256').update(le).digest('hex');
}

/** Consecutive runs of selected rows: [first view row, end view row) served by one read of the base file. */
function* spans(rows: Int32Array, start: number, end: number): Generator<[number, number]> {
  let i = start;
  while (i < end) {
    let j = i + 1;
    while (j < end && rows[j]! - rows[j - 1]! <= MAX_GAP_ROWS && rows[j]! - rows[i]! < MAX_SPAN_ROWS) j++;
    yield [i, j];
    i = j;
  }
}

class SelectedRowReader implements FeatureRowReader {
  readonly rows: number;
  private readonly scratch: Float32Array;
  constructor(
    private readonly base: FeatureRowReader,
    private readonly selected: Int32Array,
    readonly rowLength: number,
  ) {
    this.rows = selected.length;
    this.scratch = new Float32Array(MAX_SPAN_ROWS * rowLength);
  }
  readFloat32Rows(start: number, count: number, out?: Float32Array): Float32Array {
    const d = this.rowLength;
    const dst = out ?? new Float32Array(count * d);
    for (const [i, j] of spans(this.selected, start, start + count)) {
      const first = this.selected[i]!;
      const span = this.selected[j - 1]! - first + 1;
      const buf = this.base.readFloat32Rows(first, span, this.scratch.subarray(0, span * d));
      this.gather(buf, first, i, j, dst, start);
    }
    return dst;
  }
  async readFloat32RowsAsync(start: number, count: number, out: Float32Array): Promise<void> {
    const d = this.rowLength;
    // Its own scratch: a read-ahead may be in flight while the caller reads synchronously.
    const scratch = new Float32Array(MAX_SPAN_ROWS * d);
    for (const [i, j] of spans(this.selected, start, start + count)) {
      const first = this.selected[i]!;
      const span = this.selected[j - 1]! - first + 1;
      const buf = scratch.subarray(0, span * d);
      await this.base.readFloat32RowsAsync(first, span, buf);
      this.gather(buf, first, i, j, out, start);
    }
  }
  private gather(buf: Float32Array, first: number, i: number, j: number, dst: Float32Array, start: number): void {
    const d = this.rowLength;
    for (let v = i; v < j; v++) {
      const off = (this.selected[v]! - first) * d;
      dst.set(buf.subarray(off, off + d), (v - start) * d);
    }
  }
  close(): void {
    this.base.close();
  }
}
