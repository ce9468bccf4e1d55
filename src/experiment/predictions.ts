/**
 * `<workDir>/predictions/<set>.csv`: one row per image of an evaluation set with every model's top-1 and top-5
 * prediction and whether its top-1 is right, so that any accuracy, gap or McNemar p of results.json can be
 * recomputed outside fcprobe (docs/statistics.md names the columns).
 */
import { join } from 'node:path';
import { ensureWritableDir } from '../io/atomic.js';
import { writeFileAtomic } from '../io/atomic.js';
import { csvLine } from '../io/csv.js';
import type { EvalResult } from '../probe/evaluate.js';

/** The folder under the work directory. */
export const PREDICTIONS_DIR = 'predictions';

export interface SetPredictions {
  set: string;
  /** Image paths in row order (the feature set's manifest files; the same for every model, checked by the run). */
  files: readonly string[];
  /** Class names of the set's label space, in the index order of the evaluations' `ranked` and `rowLabels`. */
  classes: readonly string[];
  models: { name: string; evaluation: EvalResult }[];
}

/**
 * Writes one set's file (atomically) and returns its path. Columns: `file`, `label` (empty: not scored), then
 * per model `<model> top1`, `<model> top5` (the five best classes joined by `|`, best first) and `<model> correct`
 * (1 right, 0 wrong, empty not scored). Ties rank the lower class index first, as the accuracies count them.
 */
export function writeSetPredictions(workDir: string, p: SetPredictions): string {
  const dir = join(workDir, PREDICTIONS_DIR);
  ensureWritableDir(dir);
  const header = [
    'file',
    'label',
    ...p.models.flatMap((m) => [`${m.name} top1`, `${m.name} top5`, `${m.name} correct`]),
  ];
  const lines = [csvLine(header)];
  const first = p.models[0]?.evaluation;
  for (let i = 0; i < p.files.length; i++) {
    const y = first ? first.rowLabels[i]! : -1;
    const row: (string | number)[] = [p.files[i]!, y >= 0 ? p.classes[y]! : ''];
    for (const { evaluation: e } of p.models) {
      const k = e.rankedK;
      const top = Array.from(e.ranked.subarray(i * k, (i + 1) * k), (c) => p.classes[c]!);
      const c = e.correct[i]!;
      row.push(top[0] ?? '', top.join('|'), c <= 1 ? c : '');
    }
    lines.push(csvLine(row));
  }
  const path = join(dir, `${p.set}.csv`);
  writeFileAtomic(path, `${lines.join('\n')}\n`);
  return path;
}
