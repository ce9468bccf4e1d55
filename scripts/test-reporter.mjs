// A short reporter for node's test runner (`npm test`): a dot per passing test, every failure in full (name,
// file, error with its stack, and the output the failing file printed), one line per skipped or todo test with
// its reason, then node's closing counts as `# tests N` ... `# duration_ms X` lines (CI reads them, in the
// same shape as node's TAP reporter) and one plain `N passed, N failed, N skipped` line.
// Use: node --test --test-reporter=./scripts/test-reporter.mjs --test-reporter-destination=stdout <files>
// The runner's exit status does not depend on the reporter: any failure still exits non-zero.
import { relative } from 'node:path';
import { inspect } from 'node:util';

const WIDTH = 80;
/** Node's closing diagnostics, in the order it emits them; these are printed as `# <name> <value>`. */
const COUNT_NAMES = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo', 'duration_ms'];

function where(data) {
  if (!data.file) return '';
  const file = relative(process.cwd(), data.file) || data.file;
  return data.line ? `${file}:${data.line}:${data.column ?? 1}` : file;
}

/** Reason given to `skip`/`todo`: a string, or `true` without one. */
function reason(value) {
  return typeof value === 'string' && value.length > 0 ? `: ${value}` : '';
}

function describeError(error) {
  if (error === undefined || error === null) return '(no error object)';
  // The runner wraps what the test threw in ERR_TEST_FAILURE; the cause is the informative part.
  const shown = error.code === 'ERR_TEST_FAILURE' && error.cause !== undefined ? error.cause : error;
  if (typeof shown === 'string') return shown;
  return inspect(shown, { depth: 6, colors: false });
}

function indent(text, prefix = '    ') {
  return text
    .replace(/\s+$/, '')
    .split('\n')
    .map((l) => prefix + l)
    .join('\n');
}

export default async function* shortReporter(source) {
  let column = 0;
  const output = new Map(); // file -> what it printed (stdout and stderr, interleaved as received)
  const failedFiles = new Set();
  const counts = new Map();
  const own = { pass: 0, fail: 0, skipped: 0, todo: 0 };
  const newline = () => {
    const s = column > 0 ? '\n' : '';
    column = 0;
    return s;
  };

  for await (const event of source) {
    const data = event.data;
    switch (event.type) {
      case 'test:pass': {
        if (data.skip !== undefined && data.skip !== false) {
          own.skipped += 1;
          yield `${newline()}skip ${data.name} (${where(data)})${reason(data.skip)}\n`;
        } else if (data.todo !== undefined && data.todo !== false) {
          own.todo += 1;
          yield `${newline()}todo ${data.name} (${where(data)})${reason(data.todo)}\n`;
        } else if (data.details?.type !== 'suite') {
          own.pass += 1;
          column += 1;
          yield column >= WIDTH ? `.${newline()}` : '.';
        }
        break;
      }
      case 'test:fail': {
        const error = data.details?.error;
        if (data.todo !== undefined && data.todo !== false) {
          own.todo += 1;
          yield `${newline()}todo ${data.name} (${where(data)})${reason(data.todo)} [fails, as expected of a todo]\n`;
          break;
        }
        // A suite or file whose subtests failed: those failures are printed on their own.
        if (error?.failureType === 'subtestsFailed') break;
        own.fail += 1;
        if (data.file) failedFiles.add(data.file);
        // A file that failed outside any test (it threw while loading, or exited early) is named by its path.
        const name = data.name === data.file ? 'the file itself (see its output below)' : data.name;
        yield `${newline()}\nFAIL ${name} (${where(data)})\n${indent(describeError(error))}\n\n`;
        break;
      }
      case 'test:stdout':
      case 'test:stderr': {
        // Kept, and shown only for files with a failure: passing files stay quiet.
        const key = data.file ?? '';
        output.set(key, (output.get(key) ?? '') + data.message);
        break;
      }
      case 'test:diagnostic': {
        // The closing counts are top-level diagnostics without a file; others belong to a test.
        if (data.nesting !== 0 || data.file) break;
        const m = /^(\S+) (\S+)$/.exec(data.message);
        if (m && COUNT_NAMES.includes(m[1])) counts.set(m[1], m[2]);
        break;
      }
      default:
        break;
    }
  }

  let tail = newline();
  for (const file of failedFiles) {
    const printed = output.get(file);
    if (printed?.trim()) tail += `\nOutput of ${relative(process.cwd(), file) || file}:\n${indent(printed)}\n`;
  }
  if (tail) yield tail;

  let summary = '\n';
  for (const name of COUNT_NAMES) if (counts.has(name)) summary += `# ${name} ${counts.get(name)}\n`;
  // The plain line uses node's counts when it sent them (it also counts files that failed to load).
  const n = (name, fallback) => (counts.has(name) ? Number(counts.get(name)) : fallback);
  let line = `${n('pass', own.pass)} passed, ${n('fail', own.fail)} failed, ${n('skipped', own.skipped)} skipped`;
  if (n('cancelled', 0) > 0) line += `, ${n('cancelled', 0)} cancelled`;
  if (n('todo', own.todo) > 0) line += `, ${n('todo', own.todo)} todo`;
  yield `${summary}${line}\n`;
}
