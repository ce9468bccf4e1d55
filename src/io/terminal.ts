/**
 * What may reach a terminal. Strings that fcprobe prints often carry text it did not write: file and folder
 * names, an HTTP server's reason phrase, a model's tensor names, an environment variable. Two hazards:
 *
 * - **Control characters.** ESC starts sequences that move the cursor, rewrite or clear lines, set the window
 *   title (OSC) or even define clipboard contents; CR and BEL are enough to hide or fake a line. escapeControl
 *   writes every control character as visible text (`\x1b`), so a hostile name prints as what it is.
 * - **Secrets.** A token in an `Authorization: Bearer` header, or `user:password@` in a URL, ends up in the
 *   messages of the libraries fcprobe calls (undici quotes a refused header value or URL in full).
 *   redactSecrets replaces both shapes, and the literal value of HF_TOKEN wherever it appears.
 *
 * forTerminal does both; the CLI applies it where text leaves the process (the error handlers, notices,
 * progress, the report's terminal rendering), so one rule covers every message, whatever layer built it.
 */

/** C0 controls, DEL and the C1 range (0x9b is a one-byte CSI on some terminals). Tab and newline are kept. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point here
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above, newline and tab included
const CONTROL_ALL = /[\x00-\x1f\x7f-\x9f]/g;

function hex(c: string): string {
  return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/**
 * Every control character of `text` as `\xNN`. `keepNewlines` (default true) leaves `\n` and `\t` alone, for
 * text fcprobe laid out itself; pass false for one untrusted value (a file name) that must stay on its line.
 */
export function escapeControl(text: string, keepNewlines = true): string {
  return text.replace(keepNewlines ? CONTROL : CONTROL_ALL, hex);
}

/** True when `text` holds any control character (tab and newline included). */
export function hasControl(text: string): boolean {
  return text.search(CONTROL_ALL) >= 0;
}

const REDACTED = '<redacted>';

/** Secrets known from the environment: HF_TOKEN's value, and each of its lines (a token with CR/LF in it). */
export function environmentSecrets(env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  for (const name of ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN']) {
    const v = env[name];
    if (!v) continue;
    out.push(v);
    // Short pieces would redact ordinary words; a real token piece is long.
    for (const piece of v.split(CONTROL_ALL)) if (piece.length >= 6) out.push(piece);
  }
  return out.sort((a, b) => b.length - a.length);
}

/**
 * `text` with credentials replaced by `<redacted>`: the value after `Bearer `, the user:password
 * of any `scheme://user:password@host` URL, and every string of `secrets` (default: environmentSecrets()).
 */
export function redactSecrets(text: string, secrets: readonly string[] = environmentSecrets()): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join(REDACTED);
  // Only Bearer: "Basic <word>" is ordinary English, and fcprobe sends no Basic credentials.
  // The value runs to a space, newline, quote or delimiter: a CR or ESC inside it (a pasted token) is redacted too.
  out = out.replace(/\b(Bearer)[ \t]+[^ \t\n"',;)]+/gi, `$1 ${REDACTED}`);
  // Userinfo never contains '/', '?' or '#'; anything up to the last '@' before the host is a credential.
  out = out.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi, `$1${REDACTED}@`);
  return out;
}

/** Redacted, then with its control characters escaped: the one rule for text printed to a terminal. */
export function forTerminal(text: string, keepNewlines = true): string {
  return escapeControl(redactSecrets(text), keepNewlines);
}
