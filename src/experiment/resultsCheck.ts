/**
 * Checks every number of a results.json that `report` and `compare` read, before anything is computed from it.
 * A hand-edited or damaged file must not turn into a report: `"top1": null` became an ID mean of 0.00 and a
 * gap of -60 pp, `"0.99"` (a string) 99.00, `-5` -500 %. Each value is checked for its type, for being finite
 * where it must be, and for its range (accuracies in [0, 1], counts non-negative integers, image counts of
 * measurements positive: the report's means and intervals cannot take a NaN accuracy); the first failure is one
 * BAD_DATA error (exit 3) naming the file and the value's JSON path.
 *
 * NaN is accepted only where the measure can be undefined (CKA of a constant matrix, a cosine summary over no
 * rows, an asymmetry distribution over no live neurons, a probe without C); results.json stores it as the
 * string "NaN", which results.ts revives before this check.
 */
import { FcprobeError } from '../errors.js';

/** Floating-point slack for measures computed by sums (CKA, cosines), which may round just past their bound. */
const SLACK = 1e-6;

type Obj = Record<string, unknown>;

interface NumberRule {
  min?: number;
  max?: number;
  /** A whole number (and finite). */
  integer?: boolean;
  /** The lower bound itself is excluded. */
  minExclusive?: boolean;
  /** The upper bound itself is excluded. */
  maxExclusive?: boolean;
  /** NaN (an undefined measure) is accepted. */
  nan?: boolean;
  /** null (not measured) is accepted. */
  nullable?: boolean;
  /** Rounding tolerated past min and max (not shown in messages). */
  slack?: number;
}

const FRACTION: NumberRule = { min: 0, max: 1 };
const COUNT: NumberRule = { min: 0, integer: true };
const POSITIVE_COUNT: NumberRule = { min: 1, integer: true };
const GAP: NumberRule = { min: -1, max: 1 };

function ruleText(r: NumberRule): string {
  const kind = r.integer
    ? r.min === 1
      ? 'a positive integer'
      : r.min === 0
        ? 'a non-negative integer'
        : 'an integer'
    : 'a finite number';
  let range = '';
  if (!r.integer && r.min !== undefined && r.max !== undefined)
    range = ` in ${r.minExclusive ? '(' : '['}${r.min}, ${r.max}${r.maxExclusive ? ')' : ']'}`;
  else if (!r.integer && r.min !== undefined) range = r.minExclusive ? ` above ${r.min}` : ` of at least ${r.min}`;
  return `${kind}${range}${r.nan ? ' or NaN' : ''}${r.nullable ? ' or null' : ''}`;
}

/** Walks one results object; every method takes the JSON path of what it checks. */
class ResultsChecker {
  constructor(private readonly where: string) {}

  fail(path: string, expected: string, got: unknown): never {
    let shown: string;
    if (typeof got === 'number') shown = String(got);
    else {
      const s = JSON.stringify(got) ?? 'nothing';
      shown = s.length > 60 ? `${s.slice(0, 57)}...` : s;
    }
    throw new FcprobeError(
      'BAD_DATA',
      `${this.where} is damaged: expected ${path} to be ${expected}, got ${shown}.`,
      'Re-run `fcprobe run` to write it again (extracted features are reused); do not edit results.json by hand.',
    );
  }

  num(o: Obj, key: string, path: string, r: NumberRule): void {
    this.value(o[key], `${path}.${key}`, r);
  }

  /** Every element of the array `list` (at `path`) by `r`. */
  each(list: unknown, path: string, r: NumberRule): void {
    this.arr(list, path).forEach((v, i) => {
      this.value(v, `${path}[${i}]`, r);
    });
  }

  value(v: unknown, p: string, r: NumberRule): void {
    if (v === null && r.nullable) return;
    if (typeof v !== 'number') this.fail(p, ruleText(r), v ?? null);
    if (Number.isNaN(v)) {
      if (r.nan) return;
      this.fail(p, ruleText(r), v);
    }
    const bad =
      !Number.isFinite(v) ||
      (r.integer && !Number.isSafeInteger(v)) ||
      (r.min !== undefined && (r.minExclusive ? v <= r.min : v < r.min - (r.slack ?? 0))) ||
      (r.max !== undefined && (r.maxExclusive ? v >= r.max : v > r.max + (r.slack ?? 0)));
    if (bad) this.fail(p, ruleText(r), v);
  }

  /** A computed measure with a bound it may pass by rounding (CKA, cosine). */
  measure(o: Obj, key: string, path: string, min: number, max: number, nan = true): void {
    this.num(o, key, path, { min, max, nan, slack: SLACK });
  }

  str(o: Obj, key: string, path: string, optional = false): void {
    const v = o[key];
    if (optional && v === undefined) return;
    if (typeof v !== 'string') this.fail(path ? `${path}.${key}` : key, 'a string', v ?? null);
  }

  obj(v: unknown, path: string): Obj {
    if (!v || typeof v !== 'object' || Array.isArray(v)) this.fail(path, 'an object', v ?? null);
    return v as Obj;
  }

  arr(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, 'an array', v ?? null);
    return v;
  }

  strings(o: Obj, key: string, path: string, optional = false): void {
    const v = o[key];
    if (optional && v === undefined) return;
    this.arr(v, `${path}.${key}`).forEach((x, i) => {
      if (typeof x !== 'string') this.fail(`${path}.${key}[${i}]`, 'a string', x ?? null);
    });
  }

  /** An interval {low, high} with low <= high, both within [min, max]; null where `nullable`. */
  interval(o: Obj, key: string, path: string, min: number, max: number, nullable = true, nan = false): void {
    const v = o[key];
    const p = `${path}.${key}`;
    if ((v === null || v === undefined) && nullable) return;
    const iv = this.obj(v, p);
    this.num(iv, 'low', p, { min, max, nan });
    this.num(iv, 'high', p, { min, max, nan });
    if ((iv.low as number) > (iv.high as number)) this.fail(`${p}.low`, `at most ${p}.high`, iv.low);
  }

  acrossSeeds(o: Obj, path: string, value: NumberRule): void {
    if (o.acrossSeeds === undefined) return;
    const p = `${path}.acrossSeeds`;
    const a = this.obj(o.acrossSeeds, p);
    this.each(a.seeds, `${p}.seeds`, { integer: true });
    // A seed whose set scored no image has NaN, and so has the mean over the seeds.
    this.each(a.values, `${p}.values`, { ...value, nan: true });
    this.num(a, 'mean', p, { ...value, nan: true });
    this.num(a, 'std', p, { min: 0, nan: true });
  }
}

/**
 * Checks the measured numbers of a parsed results object (already known to have the arrays and `statistics`).
 * @throws FcprobeError BAD_DATA naming `where` and the first bad value's JSON path.
 */
export function checkResultsNumbers(r: Obj, where: string): void {
  const c = new ResultsChecker(where);
  if (r.title !== undefined && r.title !== null && typeof r.title !== 'string') c.fail('title', 'a string', r.title);

  // Printed in every report's header line.
  c.str(r, 'fcprobeVersion', '');
  c.str(r, 'createdAt', '');
  const ma = c.obj(r.machine, 'machine');
  for (const k of ['platform', 'arch', 'cpuModel', 'node']) c.str(ma, k, 'machine');
  c.num(ma, 'cpus', 'machine', COUNT);
  c.num(ma, 'memoryGiB', 'machine', { min: 0 });
  c.strings(ma, 'executionProviders', 'machine');

  const st = c.obj(r.statistics, 'statistics');
  c.num(st, 'level', 'statistics', { min: 0, max: 1, minExclusive: true, maxExclusive: true });
  c.num(st, 'bootstrap', 'statistics', COUNT);
  c.num(st, 'seed', 'statistics', { integer: true });

  (r.models as unknown[]).forEach((x, i) => {
    const p = `models[${i}]`;
    const m = c.obj(x, p);
    c.str(m, 'name', p);
    if (!['teacher', 'student', 'reference'].includes(m.role as string))
      c.fail(`${p}.role`, '"teacher", "student" or "reference"', m.role ?? null);
    c.num(m, 'featureDim', p, POSITIVE_COUNT);
    c.str(m, 'path', p);
    c.str(m, 'sha256', p);
    for (const k of ['preset', 'preprocessing', 'output', 'pool']) c.str(m, k, p, true);
  });

  (r.sets as unknown[]).forEach((x, i) => {
    const p = `sets[${i}]`;
    const s = c.obj(x, p);
    if (s.found === false) return;
    // 0 when every image of the set was skipped as undecodable.
    c.num(s, 'n', p, COUNT);
    // The optional parts the report's set table reads.
    c.str(s, 'scoring', p, true);
    if (s.scoredOver !== undefined && !['protocol', 'present', 'training'].includes(s.scoredOver as string))
      c.fail(`${p}.scoredOver`, '"protocol", "present" or "training"', s.scoredOver);
    if (s.classes !== undefined) {
      const cp = `${p}.classes`;
      const k = c.obj(s.classes, cp);
      c.num(k, 'present', cp, COUNT);
      c.num(k, 'expected', cp, COUNT);
      c.strings(k, 'missing', cp);
    }
    if (s.leftOut !== undefined) {
      const lp = `${p}.leftOut`;
      const l = c.obj(s.leftOut, lp);
      c.num(l, 'images', lp, COUNT);
      c.arr(l.entries, `${lp}.entries`).forEach((y, j) => {
        const ep = `${lp}.entries[${j}]`;
        const e = c.obj(y, ep);
        c.str(e, 'what', ep);
        c.str(e, 'reason', ep);
        c.num(e, 'images', ep, COUNT);
      });
    }
  });

  (r.accuracy as unknown[]).forEach((x, i) => {
    const p = `accuracy[${i}]`;
    const a = c.obj(x, p);
    c.str(a, 'model', p);
    c.str(a, 'set', p);
    c.num(a, 'n', p, POSITIVE_COUNT);
    c.num(a, 'top1', p, FRACTION);
    c.interval(a, 'top1Interval', p, 0, 1);
    c.num(a, 'classes', p, POSITIVE_COUNT);
    c.num(a, 'top5', p, { ...FRACTION, nullable: true });
    c.str(a, 'scoring', p, true);
    c.acrossSeeds(a, p, FRACTION);
  });

  (r.gaps as unknown[]).forEach((x, i) => {
    const p = `gaps[${i}]`;
    const g = c.obj(x, p);
    for (const k of ['teacher', 'student', 'set']) c.str(g, k, p);
    c.num(g, 'n', p, POSITIVE_COUNT);
    c.num(g, 'top1Gap', p, GAP);
    c.interval(g, 'interval', p, -1, 1);
    c.num(g, 'mcnemarP', p, FRACTION);
    c.num(g, 'onlyTeacher', p, { ...COUNT, max: g.n as number });
    c.num(g, 'onlyStudent', p, { ...COUNT, max: g.n as number });
    c.acrossSeeds(g, p, GAP);
  });

  (r.contamination as unknown[]).forEach((x, i) => {
    const p = `contamination[${i}]`;
    const k = c.obj(x, p);
    c.str(k, 'teacher', p);
    c.str(k, 'student', p);
    // A difference of two gaps, each in [-1, 1].
    c.num(k, 'estimate', p, { min: -2, max: 2 });
    c.interval(k, 'interval', p, -2, 2);
    c.strings(k, 'idSets', p);
    c.strings(k, 'oodSets', p);
    c.acrossSeeds(k, p, { min: -2, max: 2 });
  });

  (r.probes as unknown[]).forEach((x, i) => {
    const p = `probes[${i}]`;
    const pr = c.obj(x, p);
    c.str(pr, 'model', p);
    // NaN: a solver without a regularization strength (run stores C ?? NaN).
    c.num(pr, 'C', p, { min: 0, minExclusive: true, nan: true });
    c.str(pr, 'solver', p);
    if (pr.details !== undefined)
      for (const [k, v] of Object.entries(c.obj(pr.details, `${p}.details`)))
        if (typeof v !== 'number' && typeof v !== 'string') c.fail(`${p}.details.${k}`, 'a number or a string', v);
    if (pr.sweep !== undefined && pr.sweep !== null) {
      const sp = `${p}.sweep`;
      const sw = c.obj(pr.sweep, sp);
      c.each(sw.grid, `${sp}.grid`, { min: 0, minExclusive: true });
      c.num(sw, 'nVal', sp, COUNT);
      c.num(sw, 'classes', sp, COUNT);
    }
  });

  (r.representationFit as unknown[]).forEach((x, i) => {
    const p = `representationFit[${i}]`;
    const f = c.obj(x, p);
    c.str(f, 'set', p);
    c.str(f, 'student', p, true);
    c.measure(f, 'linearCka', p, 0, 1);
    // The unbiased estimator can fall below 0 (and, at tiny n, past 1): finite or NaN.
    c.num(f, 'linearCkaDebiased', p, { nan: true });
    const fp = `${p}.fit`;
    const fit = c.obj(f.fit, fp);
    c.num(fit, 'n', fp, COUNT);
    c.num(fit, 'teacherDim', fp, POSITIVE_COUNT);
    c.num(fit, 'studentDim', fp, POSITIVE_COUNT);
    c.measure(fit, 'cka', fp, 0, 1);
    c.num(fit, 'ckaDebiased', fp, { nan: true });
    if (fit.cosine !== null && fit.cosine !== undefined) {
      const cp = `${fp}.cosine`;
      const cos = c.obj(fit.cosine, cp);
      c.num(cos, 'n', cp, COUNT);
      c.num(cos, 'zeroRows', cp, COUNT);
      for (const k of ['mean', 'p10', 'median', 'p90', 'min', 'max']) c.measure(cos, k, cp, -1, 1);
      c.num(cos, 'std', cp, { min: 0, nan: true });
    }
  });

  (r.asymmetry as unknown[]).forEach((x, i) => {
    const p = `asymmetry[${i}]`;
    const a = c.obj(x, p);
    c.str(a, 'model', p);
    c.str(a, 'set', p);
    const rp = `${p}.result`;
    const res = c.obj(a.result, rp);
    for (const k of ['classes', 'examples', 'neurons']) c.num(res, k, rp, COUNT);
    if (res.applicable === true) {
      c.num(res, 'deadNeurons', rp, COUNT);
      for (const d of ['normalized', 'raw']) {
        const dp = `${rp}.${d}`;
        const dist = c.obj(res[d], dp);
        for (const k of ['mean', 'min', 'p10', 'p25', 'median', 'p75', 'p90', 'max']) c.measure(dist, k, dp, 0, 1);
      }
      for (const k of ['thresholds', 'shareAbove']) c.each(res[k], `${rp}.${k}`, FRACTION);
    } else if (res.applicable === false) {
      c.str(res, 'reason', rp);
      c.num(res, 'minActivation', rp, { nan: true });
    } else c.fail(`${rp}.applicable`, 'true or false', res.applicable ?? null);
  });

  if (Array.isArray(r.baselines))
    r.baselines.forEach((x, i) => {
      const p = `baselines[${i}]`;
      const b = c.obj(x, p);
      c.str(b, 'against', p);
      c.arr(b.points, `${p}.points`).forEach((y, j) => {
        const pp = `${p}.points[${j}]`;
        const pt = c.obj(y, pp);
        // Logit axes: 0 and 1 have no logit.
        const open: NumberRule = { min: 0, max: 1, minExclusive: true, maxExclusive: true };
        c.num(pt, 'id', pp, open);
        c.num(pt, 'ood', pp, open);
      });
    });

  (r.timings as unknown[]).forEach((x, i) => {
    const p = `timings[${i}]`;
    const t = c.obj(x, p);
    c.str(t, 'stage', p);
    c.num(t, 'seconds', p, { min: 0 });
    if (t.peakRssMiB !== undefined) c.num(t, 'peakRssMiB', p, { min: 0 });
  });
}
