/**
 * Opening a file that should hold image bytes without trusting its name: a FIFO named `a.JPEG` blocks a plain
 * open() until some writer appears (`datasets check` hung on one), and a device (a link to /dev/zero) never
 * ends. O_NONBLOCK makes the open itself return at once (it changes nothing for regular files), and fstat on
 * the open descriptor, not stat on the name, decides: the file cannot be swapped between check and read.
 */
import { closeSync, constants, fstatSync, openSync, type Stats } from 'node:fs';

/** What a non-regular file is, in words ("a FIFO", "a device", ...). */
export function fileKind(st: Stats): string {
  return st.isFIFO()
    ? 'a FIFO'
    : st.isSocket()
      ? 'a socket'
      : st.isCharacterDevice() || st.isBlockDevice()
        ? 'a device'
        : st.isDirectory()
          ? 'a folder'
          : 'a special file';
}

/** Thrown by openRegularFile for a path that opens but is not a regular file. */
export class NotRegularFileError extends Error {
  constructor(readonly kind: string) {
    super(`not a regular file (${kind})`);
    this.name = 'NotRegularFileError';
  }
}

/**
 * Opens `path` for reading and returns the descriptor and its stats, or throws NotRegularFileError (the
 * descriptor closed) when it is not a regular file after following symlinks. Node's system errors (ENOENT,
 * EACCES, ...) pass through unchanged.
 */
export function openRegularFile(path: string): { fd: number; stats: Stats } {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  let stats: Stats;
  try {
    stats = fstatSync(fd);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  if (!stats.isFile()) {
    closeSync(fd);
    throw new NotRegularFileError(fileKind(stats));
  }
  return { fd, stats };
}
