import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { environmentSecrets, escapeControl, forTerminal, redactSecrets } from '../../src/io/terminal.js';

describe('terminal output: escaping and redaction', () => {
  it('escapes every C0, DEL and C1 character as \\xNN, keeping newline and tab unless asked', () => {
    // Expected strings written out by hand, character by character.
    assert.equal(escapeControl('a\x1b]0;t\x07b'), 'a\\x1b]0;t\\x07b');
    assert.equal(escapeControl('x\ry\x7fz\x9b1m'), 'x\\x0dy\\x7fz\\x9b1m');
    assert.equal(escapeControl('line1\n\tline2'), 'line1\n\tline2');
    assert.equal(escapeControl('line1\n\tline2', false), 'line1\\x0a\\x09line2');
    // Printable non-ASCII text is left alone.
    assert.equal(escapeControl('café 東京 é'), 'café 東京 é');
  });

  it('redacts Bearer values, URL credentials and the given secrets, and nothing else', () => {
    assert.equal(redactSecrets('Headers: "Bearer hf_abc.def" bad', []), 'Headers: "Bearer <redacted>" bad');
    assert.equal(
      redactSecrets('GET https://me:pa55@host.example/x and http://u@h/', []),
      'GET https://<redacted>@host.example/x and http://<redacted>@h/',
    );
    assert.equal(redactSecrets('token s3cr3t-value in text', ['s3cr3t-value']), 'token <redacted> in text');
    // forTerminal: redaction first (the token's CR would otherwise be escaped and no longer match), then escaping.
    assert.equal(forTerminal('Bearer a\rb \x1b[2J'), 'Bearer <redacted> \\x1b[2J');
    const plain = 'Basic statistics of user@example.com at https://huggingface.co/org/repo';
    assert.equal(redactSecrets(plain, []), plain);
  });

  it('HF_TOKEN with a line break: the whole value and each long piece are secrets', () => {
    const s = environmentSecrets({ HF_TOKEN: 'hf_first_half\r\nsecond_half', HUGGING_FACE_HUB_TOKEN: '' });
    assert.deepEqual(s, ['hf_first_half\r\nsecond_half', 'hf_first_half', 'second_half']);
    assert.equal(redactSecrets('got hf_first_half then second_half', s), 'got <redacted> then <redacted>');
  });
});
