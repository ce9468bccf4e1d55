import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { defaultCacheDir, readLock } from '../../models/cache.js';
import { loadCatalog, withExportScripts } from '../../models/catalog.js';
import { DEFAULT_STALL_TIMEOUT_S } from '../../models/download.js';
import { DEFAULT_ENDPOINT, pullModel } from '../../models/pull.js';
import { badOption } from '../../errors.js';
import { forTerminal } from '../../io/terminal.js';
import { cachePath, formatHubRef } from '../../models/reference.js';
import { resolveModel } from '../../models/resolve.js';
import { createProgress } from '../progress.js';
import { action } from '../run-command.js';

/** --stall-timeout, else FCPROBE_STALL_TIMEOUT, else the default: a positive number of seconds. */
function stallSeconds(flag: string | undefined, env: string | undefined): number {
  const [name, v] = flag !== undefined ? ['--stall-timeout', flag] : ['FCPROBE_STALL_TIMEOUT', env];
  if (v === undefined || v === '') return DEFAULT_STALL_TIMEOUT_S;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 86_400) throw badOption(name, 'a number of seconds in (0, 86400]', v);
  return n;
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

/**
 * A model argument of extract/bench -> the file to open, with the catalog's preprocessing and output as
 * defaults for what the user did not set. Nothing is downloaded (see src/models/resolve.ts).
 */
export function resolveModelArg(spec: string): ReturnType<typeof resolveModel> {
  return resolveModel(spec, defaultCacheDir());
}

export function registerModelsCommand(program: Command): void {
  const models = program
    .command('models')
    .summary('list the model catalog; download a catalog model or a Hugging Face file into the cache')
    .description(
      'Models fcprobe knows by name (models/catalog.json) and the download cache. A catalog name or an ' +
        'hf:<owner>/<repo>/<path>.onnx[@<revision>] reference works wherever a model path does (extract, ' +
        'bench, run and its configs) once it has been pulled: nothing is downloaded at run time. Cache: ' +
        '$FCPROBE_CACHE (default ~/.cache/fcprobe); checksums in <cache>/fcprobe-models.lock.json.',
    );

  models
    .command('list')
    .description(
      'the catalog: name, feature dimension, preset, output, where the ONNX comes from, whether it is pulled',
    )
    .option('--json', 'print the catalog entries as JSON')
    .addHelpText(
      'after',
      `
Examples:
  fcprobe models list
  fcprobe models list --json > catalog.json`,
    )
    .action(
      action(async (flags: { json?: boolean }) => {
        const cat = loadCatalog();
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(cat.models, null, 2)}\n`);
          return;
        }
        const cache = defaultCacheDir();
        const lock = readLock(cache);
        const rows = cat.models.map((m) => {
          let source: string;
          let pulled = '-';
          if (m.export.kind === 'hub') {
            const ref = { repo: m.export.repo, path: m.export.path, revision: m.export.revision };
            source = formatHubRef(ref);
            pulled = existsSync(cachePath(cache, ref)) && lock.models[formatHubRef(ref)] ? 'yes' : 'no';
          } else source = `export: ${m.export.script}`;
          const p = m.preset;
          return [
            m.name,
            String(m.output.featureDim),
            `${p.preset} ${p.resize}/${p.crop} ${p.interpolation}`,
            m.output.name,
            pulled,
            source,
          ];
        });
        const head = ['name', 'dim', 'preset (resize/crop)', 'output', 'pulled', 'ONNX source'];
        const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
        const line = (r: string[]): string =>
          r
            .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
            .join('  ')
            .trimEnd();
        process.stdout.write(`${[head, ...rows].map(line).join('\n')}\n`);
        process.stdout.write(
          `\nCache: ${cache}. Models with "export:" have no published ONNX: make one with the script, in ` +
            `${withExportScripts('models/export/')} (README.md there).\n`,
        );
      }),
    );

  models
    .command('pull')
    .description(
      'download a catalog model or a Hugging Face file (with its external-data files) into the cache, resuming an ' +
        'interrupted download and verifying its sha256 against the catalog or the lock file (the first pull records ' +
        'it)',
    )
    .argument('<model>', 'catalog name (fcprobe models list) or hf:<owner>/<repo>/<path>.onnx[@<revision>]')
    .option('--sha256 <hex>', 'expected sha256 of an hf: file (otherwise recorded at the first pull)')
    .option(
      '--stall-timeout <seconds>',
      `give up when no byte (or no answer) arrives for this long; the part file is kept for a rerun ` +
        `(default: $FCPROBE_STALL_TIMEOUT, else ${DEFAULT_STALL_TIMEOUT_S})`,
    )
    .option('-q, --quiet', 'no progress bar')
    .addHelpText(
      'after',
      `
Environment:
  FCPROBE_CACHE  cache folder (default: $XDG_CACHE_HOME/fcprobe or ~/.cache/fcprobe)
  HF_ENDPOINT    hub address (default ${DEFAULT_ENDPOINT}; a mirror works)
  HF_TOKEN       access token for gated or private repositories (sent to HF_ENDPOINT only; never printed)
  FCPROBE_STALL_TIMEOUT  seconds without data before a transfer is abandoned (default ${DEFAULT_STALL_TIMEOUT_S})

Examples:
  fcprobe models pull clip-vit-b16
  fcprobe models pull hf:Xenova/dinov2-small/onnx/model.onnx@560a572cedd01ab59cf1a614c2d9673397b65ef2
  fcprobe extract --model clip-vit-b16 --data imagenet/val --out work/clip-val   # preset and output from the catalog`,
    )
    .action(
      action(async (spec: string, flags: { sha256?: string; quiet?: boolean; stallTimeout?: string }) => {
        const cacheDir = defaultCacheDir();
        const stallTimeoutS = stallSeconds(flags.stallTimeout, process.env.FCPROBE_STALL_TIMEOUT);
        let progress: ReturnType<typeof createProgress> | null = null;
        let current = '';
        const r = await pullModel(spec, {
          cacheDir,
          endpoint: process.env.HF_ENDPOINT || undefined,
          token: process.env.HF_TOKEN || undefined,
          sha256: flags.sha256,
          stallTimeoutS,
          onNotice: (m) => process.stderr.write(`${forTerminal(m)}\n`),
          onProgress: (file, done, total) => {
            if (file !== current) {
              progress?.done();
              progress = createProgress(`pull ${file}`, { quiet: flags.quiet });
              current = file;
            }
            progress?.update(done, total ?? done, `bytes (${mib(done)}${total ? ` of ${mib(total)}` : ''})`);
          },
        });
        (progress as ReturnType<typeof createProgress> | null)?.done();
        const ext = r.externalData.length ? ` + ${r.externalData.length} external-data file(s)` : '';
        process.stdout.write(
          forTerminal(
            `${r.status === 'cached' ? 'Already in the cache (verified)' : 'Pulled'}: ${r.key}${ext}\n` +
              `  file   ${r.path} (${mib(r.size)})\n` +
              `  sha256 ${r.sha256}` +
              `${r.recorded ? ' (recorded in the lock file: later pulls and runs must match it)' : ' (verified)'}\n`,
          ),
        );
        // Trust on first use, said out loud: with no pinned digest, a mirror or a moved branch could have served
        // anything, and only later pulls are checked (against what this one recorded).
        if (r.unpinned.length)
          process.stderr.write(
            forTerminal(
              `note: not verified against a pinned sha256 (trust on first use): ${r.unpinned.join(', ')}. ` +
                'Compare the sha256 with a trusted source, or pin it with --sha256 or the catalog.\n',
            ),
          );
      }),
    );
}
