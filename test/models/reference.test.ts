import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isFcprobeError } from '../../src/errors.js';
import { assertInside, cachePath, hubRefProblem, partPath } from '../../src/models/reference.js';

const outside = (e: unknown): boolean => isFcprobeError(e) && e.code === 'IO' && /not inside the cache/.test(e.message);

describe('model references stay inside the cache', () => {
  it('assertInside accepts paths below the root and refuses the root, its parent and siblings', () => {
    const root = join('/tmp', 'c');
    assert.equal(assertInside(root, join(root, 'hub', 'a.onnx')), join(root, 'hub', 'a.onnx'));
    // A name that merely starts with two dots is inside.
    assert.equal(assertInside(root, join(root, '..a.onnx')), join(root, '..a.onnx'));
    assert.throws(() => assertInside(root, root), outside);
    assert.throws(() => assertInside(root, `${root}/hub/../../x.onnx`), outside);
    assert.throws(() => assertInside(root, '/tmp/cache-sibling/x.onnx'), outside);
    assert.throws(() => assertInside(root, '/etc/x.onnx'), outside);
  });

  it('cachePath and partPath refuse a reference that would leave the cache, whatever built it', () => {
    const root = join('/tmp', 'c');
    const bad = { repo: 'o/r', path: '../../../../../x.onnx', revision: 'main' };
    assert.throws(() => cachePath(root, bad), outside);
    assert.throws(() => partPath(root, bad), outside);
    assert.equal(cachePath(root, { repo: 'o/r', path: 'a/m.onnx', revision: 'v1' }), join(root, 'hub/o/r/v1/a/m.onnx'));
    assert.equal(
      partPath(root, { repo: 'o/r', path: 'a/m.onnx', revision: 'v1' }),
      join(root, 'partial/o/r/v1/a/m.onnx.part'),
    );
  });

  it('hubRefProblem names the unsafe part and passes a plain reference', () => {
    assert.equal(hubRefProblem({ repo: 'o/r', path: 'onnx/m.onnx', revision: 'main' }), null);
    assert.match(hubRefProblem({ repo: 'o/r', path: '/abs/m.onnx', revision: 'main' }) ?? '', /not a relative/);
    assert.match(hubRefProblem({ repo: 'o/r', path: 'a\\..\\m.onnx', revision: 'main' }) ?? '', /not a relative/);
    assert.match(hubRefProblem({ repo: 'o/r', path: 'm.onnx', revision: 'refs/pr/1' }) ?? '', /revision/);
    assert.match(hubRefProblem({ repo: 'o/r', path: 'm.onnx', revision: '.' }) ?? '', /revision/);
    assert.match(hubRefProblem({ repo: 'o/r', path: 'm\x1b.onnx', revision: 'main' }) ?? '', /not a relative/);
    assert.match(hubRefProblem({ repo: '../r', path: 'm.onnx', revision: 'main' }) ?? '', /repository/);
  });
});
