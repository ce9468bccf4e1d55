/**
 * The disagreement gallery: for each OOD set and student, thumbnails of images the teacher gets right and the
 * student wrong, and the reverse, with the true and predicted classes: the picture a reader wants before
 * believing a contamination number. Read from the run's predictions files (predictions.ts) and the set's own
 * images (folders, or the members of its tar shards); thumbnails are small JPEG data URIs made with sharp, so
 * the HTML report stays one file.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { isTarData, listTarShards } from '../dataset/tarListing.js';
import { isFoundSet, type RunResults, type SetEntry } from '../experiment/types.js';
import { PREDICTIONS_DIR } from '../experiment/predictions.js';
import { csvUnneutralised, parseCsv } from '../io/csv.js';

/** Thumbnails per direction and (set, student): 12 + 12 keeps a set's gallery near 100 kB. */
export const GALLERY_PER_SIDE = 12;
/** Thumbnail side in pixels (shorter side; cropped square). */
const THUMB = 72;

export interface GalleryImage {
  file: string;
  label: string;
  teacherPrediction: string;
  studentPrediction: string;
  /** data:image/jpeg;base64,... (empty when the image could not be read: the cell then says so). */
  src: string;
}

export interface GalleryEntry {
  set: string;
  student: string;
  /** Images of the set the teacher gets right and the student wrong, and how many there are in all. */
  teacherOnly: GalleryImage[];
  teacherOnlyTotal: number;
  studentOnly: GalleryImage[];
  studentOnlyTotal: number;
}

/** `count` indices spread evenly over [0, total): deterministic, and not all from the first class. */
function spread(total: number, count: number): number[] {
  if (total <= count) return Array.from({ length: total }, (_, i) => i);
  return Array.from({ length: count }, (_, i) => Math.floor((i * total) / count));
}

/** How to read an image of a set by its file name: a path, or a tar member's byte range. */
async function imageReader(set: SetEntry): Promise<(file: string) => Buffer | null> {
  if (isTarData(set.path)) {
    const listing = await listTarShards(set.path);
    const byFile = new Map(listing.items.map((it) => [it.file, it.source]));
    return (file) => {
      const src = byFile.get(file);
      if (!src) return null;
      const fd = openSync(join(listing.root, src.path), 'r');
      try {
        const buf = Buffer.alloc(src.size);
        readSync(fd, buf, 0, src.size, src.offset);
        return buf;
      } finally {
        closeSync(fd);
      }
    };
  }
  return (file) => {
    const p = join(set.path, file);
    return existsSync(p) ? readFileSync(p) : null;
  };
}

async function thumbnail(bytes: Buffer | null): Promise<string> {
  if (!bytes) return '';
  try {
    const jpeg = await sharp(bytes, { limitInputPixels: 1 << 26 })
      .resize(THUMB, THUMB, { fit: 'cover' })
      .jpeg({ quality: 70 })
      .toBuffer();
    return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
  } catch {
    return '';
  }
}

/**
 * The gallery of every (OOD set, student) whose predictions file is in `workDir`; sets whose images are gone
 * (moved folders) get empty thumbnails rather than an error, since the numbers do not depend on them.
 */
export async function collectGallery(workDir: string, results: RunResults): Promise<GalleryEntry[]> {
  const teacher = results.models.find((m) => m.role === 'teacher')?.name;
  const students = results.models.filter((m) => m.role === 'student').map((m) => m.name);
  if (!teacher) return [];
  // Each thumbnail is made once: libvips' operation cache (on by default, up to 50 MB plus its buffers) only
  // holds memory here. Extraction turns it off the same way (extract.ts, decodeWorker.ts).
  sharp.cache(false);
  const out: GalleryEntry[] = [];
  for (const set of results.sets) {
    if (!isFoundSet(set) || set.role !== 'ood') continue;
    const file = join(workDir, PREDICTIONS_DIR, `${set.name}.csv`);
    if (!existsSync(file)) continue;
    const [header, ...rows] = parseCsv(readFileSync(file, 'utf8'));
    if (!header) continue;
    const col = (m: string, what: string): number => header.indexOf(`${m} ${what}`);
    const read = await imageReader(set);
    for (const student of students) {
      const [tc, sc, tp, sp] = [
        col(teacher, 'correct'),
        col(student, 'correct'),
        col(teacher, 'top1'),
        col(student, 'top1'),
      ];
      if (Math.min(tc, sc, tp, sp) < 0) continue;
      const pick = async (want: (t: string, s: string) => boolean): Promise<[GalleryImage[], number]> => {
        const hits = rows.filter((r) => want(r[tc] ?? '', r[sc] ?? ''));
        const images: GalleryImage[] = [];
        for (const i of spread(hits.length, GALLERY_PER_SIDE)) {
          const r = hits[i]!;
          const name = csvUnneutralised(r[0] ?? '');
          images.push({
            file: name,
            label: csvUnneutralised(r[1] ?? ''),
            teacherPrediction: csvUnneutralised(r[tp] ?? ''),
            studentPrediction: csvUnneutralised(r[sp] ?? ''),
            src: await thumbnail(read(name)),
          });
        }
        return [images, hits.length];
      };
      const [teacherOnly, teacherOnlyTotal] = await pick((t, s) => t === '1' && s === '0');
      const [studentOnly, studentOnlyTotal] = await pick((t, s) => t === '0' && s === '1');
      out.push({ set: set.name, student, teacherOnly, teacherOnlyTotal, studentOnly, studentOnlyTotal });
    }
  }
  return out;
}
