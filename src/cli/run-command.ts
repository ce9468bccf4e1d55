/**
 * What every command file shares: its options built from its table in src/options.ts (flags, help text, choices,
 * defaults and parsers come from the table entry), the action wrapper (user errors print cleanly with their exit
 * code; bugs keep their stack), the report of command-line errors and the last-resort handler.
 */
import { type Command, CommanderError, Option } from 'commander';
import { type FcprobeError, isFcprobeError } from '../errors.js';
import { errnoCode, fromSystemError } from '../io/sysError.js';
import { forTerminal } from '../io/terminal.js';
import { flagName, type OptionSpec, type OptionTable, parseArg } from '../validate.js';

/**
 * Messages quote names, paths, server answers and library errors: everything printed here goes through
 * forTerminal (src/io/terminal.ts), so no token or URL password is shown and no control sequence reaches the
 * terminal raw.
 */
function printUserError(e: FcprobeError): void {
  process.stderr.write(`\nfcprobe: error: ${forTerminal(e.message)}\n`);
  if (e.hint) process.stderr.write(`  hint: ${forTerminal(e.hint)}\n`);
  process.exitCode = e.exitCode;
}

/**
 * What reaches the top unhandled: a system error (ENOSPC, EACCES, ... with the path node reports) becomes its
 * documented user error; anything else is a bug, printed as one line asking for a report, exit 1. The stack
 * trace only with --debug.
 */
export function lastResort(e: unknown, debug: boolean): void {
  if (isFcprobeError(e)) {
    printUserError(e);
    return;
  }
  if (errnoCode(e) !== undefined) {
    const mapped = fromSystemError(e, (e as NodeJS.ErrnoException).path ?? '(unknown path)', 'accessing');
    if (isFcprobeError(mapped)) {
      printUserError(mapped);
      if (debug) process.stderr.write(`${forTerminal((e as Error).stack ?? String(e))}\n`);
      return;
    }
  }
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  process.stderr.write(
    `\nfcprobe: internal error: ${forTerminal(msg).split('\n')[0]}\n  This is a bug in fcprobe: please report it ` +
      `with the command you ran${debug ? '.' : ' and the output of the same command with --debug.'}\n`,
  );
  if (debug && e instanceof Error && e.stack) process.stderr.write(`${forTerminal(e.stack)}\n`);
  process.exitCode = 1;
  // An uncaught exception leaves node in an undefined state: end now, with the code set above.
  process.exit(1);
}

/**
 * A reader that stops early (`fcprobe models list | head -1`) closes stdout; the next write fails with EPIPE,
 * emitted on process.stdout. Unix tools end quietly there with success: nothing is wrong with the command,
 * the reader simply wanted no more. Exit 0 at once (docs/exit-codes.md): the rest of the output has nowhere
 * to go. Other stdout errors stay errors (lastResort maps them to exit 6).
 */
export function endQuietlyOnClosedStdout(debug: boolean): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    lastResort(e, debug);
  });
  // A closed stderr (`fcprobe ... 2>&1 >/dev/null | head -1`): its EPIPE must not reach lastResort, whose
  // message goes to stderr again, fails again, and so on forever (a busy loop, seen). Nothing more can be
  // said: end with the status the command has set.
  process.stderr.on('error', () => {
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
}

export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      if (isFcprobeError(e)) {
        printUserError(e);
        return;
      }
      throw e;
    }
  };
}

/**
 * Reports an error that escaped parsing and returns the exit status: a command-line error (unknown option,
 * missing required option or argument, bad value) prints one line `fcprobe: error: ...` and a hint to
 * `--help`, and exits 2 as every bad option does; --help and --version exit 0. Anything else is a bug and
 * is thrown again (with its stack).
 */
export function reportParseError(e: unknown, program: Command, args: readonly string[]): number {
  // The innermost command named on the line (`datasets check`, not `datasets`): its --help has the option.
  const names: string[] = [];
  let cmd: Command = program;
  for (const a of args.filter((x) => !x.startsWith('-'))) {
    const next = cmd.commands.find((c) => c.name() === a);
    if (!next) break;
    names.push(a);
    cmd = next;
  }
  const help = `Run \`${['fcprobe', ...names].join(' ')} --help\` for usage.`;
  if (isFcprobeError(e)) {
    process.stderr.write(`fcprobe: error: ${forTerminal(e.message)}\n  hint: ${forTerminal(e.hint ?? help)}\n`);
    return e.exitCode;
  }
  if (!(e instanceof CommanderError)) throw e;
  if (e.exitCode === 0) return 0;
  // commander.help(Displayed): no command given, the help went to stderr already.
  if (e.code !== 'commander.help' && e.code !== 'commander.helpDisplayed') {
    const [first = '', ...rest] = e.message.replace(/^error: /, '').split('\n');
    const more = rest.map((l) => l.replace(/^\((.*)\)$/, '$1').trim()).filter(Boolean);
    process.stderr.write(`fcprobe: error: ${forTerminal(first)}\n  hint: ${forTerminal([...more, help].join(' '))}\n`);
  }
  return 2;
}

/** The commander Option of one table entry; its attribute name must be `key` (a table bug otherwise). */
export function commanderOption(key: string, s: OptionSpec): Option {
  const takesValue = s.flags.includes('<');
  const shownDefault = takesValue && s.default !== undefined && s.defaultIn === 'help';
  const o = new Option(
    s.flags,
    shownDefault ? `${s.description} (default: ${JSON.stringify(s.default)})` : s.description,
  );
  if (o.attributeName() !== key) throw new Error(`option table key ${key} is not the attribute of ${s.flags}`);
  const c = s.check;
  if (c?.kind === 'enum') o.choices(c.values);
  // After choices(): our parser replaces commander's choice check, so a bad choice gets the same message shape
  // as every other bad value (the help still lists the choices).
  const name = flagName(s);
  const parse = (v: string): unknown => (c ? parseArg(name, c, v) : v);
  // A repeatable flag collects its values (commander's variadic form would also swallow the arguments after it).
  if (s.repeatable) o.argParser((v: string, prev: unknown) => [...(Array.isArray(prev) ? prev : []), parse(v)]);
  else if (c) o.argParser(parse);
  // Switches get no default here: an absent switch stays undefined (a --no-* switch defaults to true by itself).
  if (takesValue && s.default !== undefined && s.defaultIn !== 'help') o.default(s.default);
  if (s.required) o.makeOptionMandatory();
  return o;
}

/** Adds every option of `table` (or the listed ones, in table order) to `cmd`. */
export function addOptions(cmd: Command, table: OptionTable, only?: readonly string[]): Command {
  for (const [key, s] of Object.entries(table)) if (!only || only.includes(key)) cmd.addOption(commanderOption(key, s));
  return cmd;
}
