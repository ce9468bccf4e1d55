/**
 * Command-line errors (unknown option, missing required option, bad value) exit 2 with one line
 * `fcprobe: error: ...` and a hint to --help, as every bad option does; no stack trace, no usage dump.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli as cli } from '../helpers/fixtures.js';

/** Exit 2, stderr exactly an error line and a hint line naming the command's --help, nothing on stdout. */
function assertParseError(args: string[], error: RegExp, command: string): void {
  const r = cli(args);
  assert.equal(r.status, 2, `exit status of fcprobe ${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.split('\n');
  assert.equal(lines.length, 3, `two lines and the final newline, got: ${r.stderr}`);
  assert.match(lines[0]!, /^fcprobe: error: /);
  assert.match(lines[0]!, error);
  assert.match(lines[1]!, new RegExp(`^  hint: .*Run \`${command} --help\` for usage\\.$`));
  assert.equal(lines[2], '');
}

describe('command-line errors', () => {
  it('an unknown option exits 2 and suggests the near flag', () => {
    assertParseError(
      ['extract', '--model', 'm', '--data', 'd', '--out', 'o', '--batchh', '3'],
      /unknown option '--batchh'/,
      'fcprobe extract',
    );
    assert.match(
      cli(['extract', '--model', 'm', '--data', 'd', '--out', 'o', '--batchh', '3']).stderr,
      /hint: Did you mean --batch\? Run/,
    );
  });

  it('a missing required option exits 2', () => {
    assertParseError(
      ['extract', '--data', 'd', '--out', 'o'],
      /required option '-m, --model <file\.onnx\|name\|hf:ref>' not specified/,
      'fcprobe extract',
    );
    assertParseError(
      ['probe', '--train', 't'],
      /required option '-o, --out <probe-dir>' not specified/,
      'fcprobe probe',
    );
  });

  it('a bad value exits 2 with the one message shape', () => {
    assertParseError(
      ['extract', '--model', 'm', '--data', 'd', '--out', 'o', '--crop', 'abc'],
      /^fcprobe: error: Expected --crop to be a positive integer, got "abc"\.$/,
      'fcprobe extract',
    );
    assertParseError(
      ['run', '--preset', 'vgg'],
      /^fcprobe: error: Expected --preset to be one of torchvision, clip, inception, got "vgg"\.$/,
      'fcprobe run',
    );
    assertParseError(
      ['simulate', '--momentum', '1'],
      /^fcprobe: error: Expected --momentum to be a number in \[0, 1\), got "1"\.$/,
      'fcprobe simulate',
    );
    assertParseError(
      ['bench', '--model', 'm', '--data', 'd', '--batch', '1,0'],
      /Expected --batch to be comma-separated positive integers, e\.g\. 1,8,32, got "1,0"\./,
      'fcprobe bench',
    );
  });

  it('an unknown command and a missing option argument exit 2 as well', () => {
    assertParseError(['extrac'], /unknown command 'extrac'/, 'fcprobe');
    assertParseError(
      ['extract', '--model'],
      /option '-m, --model <file\.onnx\|name\|hf:ref>' argument missing/,
      'fcprobe extract',
    );
  });

  it('--help and --version still exit 0', () => {
    assert.equal(cli(['--version']).status, 0);
    const h = cli(['simulate', '--help']);
    assert.equal(h.status, 0);
    assert.match(h.stdout, /--momentum <m> +SGD momentum \(default: 0\.9\)/);
  });
});
