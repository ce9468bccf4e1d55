/**
 * `run` writes <work>/predictions/<set>.csv; from those files alone every accuracy (top-1 and top-5), every gap,
 * every McNemar p, every error-consistency kappa and every student-vs-student contrast of results.json is
 * recomputed here, independently of the code that wrote them (issue 24).
 */
import { parseCsv } from '../../src/io/csv.js';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clopperPearson, mcnemarExactP } from '../../src/math/intervals.js';
import type { RunResults } from '../../src/experiment/types.js';
import {
  CLI,
  COLOUR_STUDENT,
  COLOUR_TEACHER,
  linearEncoder,
  makeColourSet,
  tempDir,
  writeModel,
} from '../helpers/fixtures.js';

describe('run: predictions files recompute results.json', () => {
  it('accuracy, gaps, McNemar p, kappa and student contrasts from <work>/predictions/<set>.csv', async () => {
    const dir = tempDir('fcprobe-predictions-');
    const classes = ['a', 'b', 'c'];
    const look = { lean: 40, noise: 90, size: 12 };
    await makeColourSet(join(dir, 'train'), classes, 14, 1, 0.2, look);
    await makeColourSet(join(dir, 'shift'), classes, 12, 2, 1, look);
    writeModel(join(dir, 't.onnx'), linearEncoder(COLOUR_TEACHER, null));
    writeModel(join(dir, 's1.onnx'), linearEncoder(COLOUR_STUDENT, null));
    writeModel(
      join(dir, 's2.onnx'),
      linearEncoder(
        [
          [1, 1, 0],
          [0, 1, 1],
          [1, 0, 0.3],
        ],
        null,
      ),
    );
    const work = join(dir, 'w');
    const r = spawnSync(
      process.execPath,
      [CLI, 'run', '--teacher', join(dir, 't.onnx'), '--student', join(dir, 's1.onnx'), join(dir, 's2.onnx')]
        .concat(['--train', join(dir, 'train'), '--split', '0.4', '--ood', join(dir, 'shift'), '--work', work])
        .concat(['--preset', 'torchvision', '--bootstrap', '200', '-q']),
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const results = JSON.parse(readFileSync(join(work, 'results.json'), 'utf8')) as RunResults;
    const models = results.models.map((m) => m.name);
    assert.deepEqual(models, ['t', 's1', 's2']);
    const evalSets = results.sets.filter((s) => 'role' in s && s.role !== 'id-train').map((s) => s.name);
    assert.equal(evalSets.length, 2);
    for (const set of evalSets) {
      const [header, ...rows] = parseCsv(readFileSync(join(work, 'predictions', `${set}.csv`), 'utf8'));
      assert.deepEqual(header!.slice(0, 2), ['file', 'label']);
      const col = (m: string, what: string): number => header!.indexOf(`${m} ${what}`);
      const right = (m: string): number[] => rows.map((row) => Number(row[col(m, 'correct')]));
      for (const m of models) {
        const acc = results.accuracy.find((a) => a.model === m && a.set === set)!;
        assert.equal(rows.length, acc.n);
        const top1 = rows.filter((row) => row[col(m, 'top1')] === row[1]).length / rows.length;
        assert.equal(top1, acc.top1, `${m} ${set} top-1`);
        assert.equal(right(m).reduce((a, b) => a + b, 0) / rows.length, acc.top1);
        if (acc.top5 !== null) {
          const top5 = rows.filter((row) => row[col(m, 'top5')]!.split('|').includes(row[1]!)).length / rows.length;
          assert.equal(top5, acc.top5, `${m} ${set} top-5`);
        }
      }
      const t = right('t');
      for (const s of ['s1', 's2']) {
        const st = right(s);
        const gap = results.gaps.find((g) => g.student === s && g.set === set)!;
        const onlyT = t.filter((v, i) => v === 1 && st[i] === 0).length;
        const onlyS = t.filter((v, i) => v === 0 && st[i] === 1).length;
        assert.equal(gap.top1Gap, (onlyT - onlyS) / rows.length);
        assert.equal(gap.mcnemarP, mcnemarExactP(onlyT, onlyS));
        // Kappa by its definition from the two columns.
        const n = rows.length;
        const pt = t.reduce((a, b) => a + b, 0) / n,
          ps = st.reduce((a, b) => a + b, 0) / n;
        const obs = t.filter((v, i) => v === st[i]).length / n;
        const exp = pt * ps + (1 - pt) * (1 - ps);
        assert.ok(Math.abs(gap.errorConsistency!.kappa - (obs - exp) / (1 - exp)) < 1e-12);
      }
      // Per-class gaps from the label and correct columns (intervals: Clopper-Pearson, tested against scipy).
      for (const s of ['s1', 's2']) {
        const cg = results.classGaps!.find((g) => g.student === s && g.set === set)!;
        const labelled = rows.filter((row) => row[1] !== '');
        assert.equal(
          cg.classes.reduce((a, c) => a + c.n, 0),
          labelled.length,
        );
        for (const c of cg.classes) {
          const mine = rows.filter((row) => row[1] === c.class);
          const kt = mine.filter((row) => row[col('t', 'correct')] === '1').length;
          const ks = mine.filter((row) => row[col(s, 'correct')] === '1').length;
          assert.equal(c.n, mine.length);
          assert.equal(c.gap, (kt - ks) / mine.length);
          assert.deepEqual(c.teacherInterval, clopperPearson(kt, mine.length));
          assert.deepEqual(c.studentInterval, clopperPearson(ks, mine.length));
        }
        const gaps = cg.classes.map((c) => c.gap);
        assert.deepEqual(
          gaps,
          [...gaps].sort((a, b) => b - a),
          'ranked by gap, largest first',
        );
      }
      const c = results.studentContrasts![0]!;
      assert.equal(c.first, 's1');
      assert.equal(c.second, 's2');
      const row = c.perSet.find((p) => p.set === set)!;
      const a = right('s1'),
        b = right('s2');
      const onlyA = a.filter((v, i) => v === 1 && b[i] === 0).length;
      const onlyB = a.filter((v, i) => v === 0 && b[i] === 1).length;
      assert.equal(row.onlyFirst, onlyA);
      assert.equal(row.onlySecond, onlyB);
      assert.equal(row.mcnemarP, mcnemarExactP(onlyA, onlyB));
      assert.ok(Math.abs(row.gapDifference - (onlyB - onlyA) / rows.length) < 1e-12);
    }
    const cont = (s: string): number => results.contamination.find((x) => x.student === s)!.estimate;
    const diff = results.studentContrasts![0]!.contaminationDifference!;
    assert.ok(Math.abs(diff.estimate - (cont('s1') - cont('s2'))) < 1e-12);
    assert.ok(diff.interval !== null);

    // The report treats every student alike and shows the evidence (issue 24).
    assert.match(r.stdout, /Students: teacher - student \(pp, 95% intervals\)/);
    assert.match(r.stdout, /Student vs student/);
    const md = readFileSync(join(work, 'report.md'), 'utf8');
    for (const h of ['## Students', '## Student vs student', '## Error consistency', '## Classes that carry the OOD'])
      assert.ok(md.includes(h), h);
    assert.match(md, /\| s1 - s2 \|/);
    const html = readFileSync(join(work, 'report.html'), 'utf8');
    assert.match(html, /<h2>Disagreements<\/h2>/);
    const thumbs = html.match(/<img src="data:image\/jpeg;base64,/g) ?? [];
    const oodGap = results.gaps.filter((g) => g.set === 'shift');
    const expected = oodGap.reduce((a, g) => a + Math.min(12, g.onlyTeacher) + Math.min(12, g.onlyStudent), 0);
    assert.equal(thumbs.length, expected, 'one thumbnail per disagreement shown, at most 12 per side');
    const [cgHeader, ...cgRows] = parseCsv(readFileSync(join(work, 'class-gaps.csv'), 'utf8'));
    assert.deepEqual(cgHeader!.slice(0, 4), ['student', 'set', 'class', 'n']);
    assert.equal(
      cgRows.length,
      results.classGaps!.reduce((a, g) => a + g.classes.length, 0),
    );
    const plain = spawnSync(
      process.execPath,
      [CLI, 'report', work, '--format', 'html', '--no-images', '--out', join(dir, 'plain')],
      { encoding: 'utf8' },
    );
    assert.equal(plain.status, 0, plain.stderr);
    assert.doesNotMatch(readFileSync(join(dir, 'plain', 'report.html'), 'utf8'), /data:image\/jpeg/);
  });
});
