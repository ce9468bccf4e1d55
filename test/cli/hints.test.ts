/**
 * Messages that tell the user what to do next: the --help of the subcommand that failed, an example in every
 * command's help, and a data folder given one level too high recognised as such.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { makeNoiseFolder, tempDir, runCli as cli } from '../helpers/fixtures.js';

describe('hints', () => {
  it('a nested command without its required option points at its own --help', () => {
    const r = cli(['datasets', 'check']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--data-root/);
    assert.match(r.stderr, /hint: Run `fcprobe datasets check --help` for usage\./);
    const pull = cli(['models', 'pull']);
    assert.equal(pull.status, 2);
    assert.match(pull.stderr, /hint: Run `fcprobe models pull --help` for usage\./);
    // A top-level command keeps its own name only.
    assert.match(cli(['extract']).stderr, /hint: Run `fcprobe extract --help` for usage\./);
  });

  it('every command and subcommand --help shows an example', () => {
    const top = cli(['--help']).stdout;
    const names = [...top.matchAll(/^ {2}([a-z-]+)(?: \[options\]| <)/gm)].map((m) => m[1]!);
    assert.ok(names.includes('compare') && names.includes('extract'), top);
    const withSubs: Record<string, string[]> = { models: ['list', 'pull'], datasets: ['check'] };
    for (const n of names.filter((x) => x !== 'help')) {
      for (const args of withSubs[n] ? withSubs[n].map((s) => [n, s]) : [[n]]) {
        const r = cli([...args, '--help']);
        assert.equal(r.status, 0, args.join(' '));
        const example = r.stdout.split(/^Examples?\b.*:$/m)[1] ?? '';
        assert.ok(example.includes(`fcprobe ${args.join(' ')} `), `${args.join(' ')}: no example\n${r.stdout}`);
      }
    }
  });

  describe('a data folder one level too high', () => {
    const dir = tempDir('fcprobe-hints-');
    const root = join(dir, 'pacs');
    before(async () => {
      for (const domain of ['art_painting', 'photo']) await makeNoiseFolder(join(root, domain), ['dog', 'horse'], 1, 8);
    });

    it('extract says the class folders hold class folders and names the folders probably meant', () => {
      const r = cli(['extract', '-m', join(dir, 'm.onnx'), '--data', root, '--out', join(dir, 'out')]);
      assert.equal(r.status, 3, r.stderr);
      assert.match(r.stderr, /art_painting contains class folders \(dog, horse\), not images/);
      assert.match(r.stderr, /hint: Did you mean one of \S+\/pacs\/art_painting, \S+\/pacs\/photo\?/);
    });

    it('one of the folders it names is the one that works', () => {
      const r = cli(['extract', '-m', join(dir, 'none.onnx'), '--data', join(root, 'photo'), '--out', join(dir, 'o')]);
      // The listing passes; the missing model is what fails now (exit 4, not 3).
      assert.equal(r.status, 4, r.stderr);
    });
  });
});
