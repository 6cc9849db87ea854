/**
 * Option tables → commander options, and the merge rule: a JSON config file gives defaults
 * (keys are the camelCase option names), flags given on the command line win. Every value is
 * checked here, before any work starts.
 *
 *   const spec = [{ name: 'nLayer', flag: 'n-layer', kind: 'int', min: 1, def: 4, help: 'transformer blocks' }];
 *   addOptions(cmd, spec);                         // --n-layer <int>
 *   const values = await resolveOptions(cmd, spec); // { nLayer: 4 } (or from --config, or the flag)
 */
import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';

export class CliError extends Error {
  /** 2: bad usage or config (nothing was done); 1: failure while working. */
  constructor(message: string, readonly exitCode: 1 | 2 = 2) {
    super(message);
  }
}

/** 'count': an integer in [min, max] or the string "auto" (kept as 'auto'). */
export type Kind = 'int' | 'number' | 'string' | 'bool' | 'paths' | 'enum' | 'count';

export interface OptSpec {
  /** camelCase key (config-file key). */
  name: string;
  /** kebab-case flag without dashes. */
  flag: string;
  kind: Kind;
  help: string;
  def?: unknown;
  min?: number;
  max?: number;
  values?: readonly string[];
}

export function addOptions(cmd: Command, specs: readonly OptSpec[]): Command {
  cmd.option('--config <file>', 'JSON file of options (camelCase keys); flags override it');
  for (const s of specs) {
    const shown = s.def === undefined ? '' : ` (default ${JSON.stringify(s.def)})`;
    if (s.kind === 'bool') {
      cmd.addOption(new Option(`--${s.flag}`, `${s.help}${shown}`));
      cmd.addOption(new Option(`--no-${s.flag}`).hideHelp());
    } else {
      const arg = s.kind === 'paths' ? '<files...>' : s.kind === 'enum' ? `<${s.values!.join('|')}>` : s.kind === 'count' ? '<n|auto>' : `<${s.kind}>`;
      cmd.addOption(new Option(`--${s.flag} ${arg}`, `${s.help}${shown}`));
    }
  }
  return cmd;
}

/**
 * Flag values (strings from commander) and the config file, merged and checked. Precedence: flag >
 * config file > `base` (a resumed run's saved settings) > the spec's default.
 */
export async function resolveOptions(cmd: Command, specs: readonly OptSpec[], base: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const opts = cmd.opts() as Record<string, unknown>;
  const file = typeof opts.config === 'string' ? await readConfig(opts.config, specs) : {};
  const out: Record<string, unknown> = {};
  for (const s of specs) {
    const fromCli = cmd.getOptionValueSource(s.name) === 'cli';
    const [raw, where] = fromCli
      ? [opts[s.name], `--${s.flag}`]
      : s.name in file
        ? [file[s.name], `"${s.name}" in ${String(opts.config)}`]
        : s.name in base
          ? [base[s.name], `"${s.name}" in the run's saved settings (run.json)`]
          : [s.def, `the default of --${s.flag}`];
    out[s.name] = raw === undefined ? undefined : coerce(s, raw, where);
  }
  return out;
}

/** The option names this invocation sets itself — by a flag or a key of its --config file — rather than run.json or a default. */
export async function explicitOptions(cmd: Command, specs: readonly OptSpec[]): Promise<Set<string>> {
  const config = (cmd.opts() as Record<string, unknown>).config;
  const file = typeof config === 'string' ? await readConfig(config, specs) : {};
  return new Set(specs.map((s) => s.name).filter((n) => cmd.getOptionValueSource(n) === 'cli' || n in file));
}

async function readConfig(path: string, specs: readonly OptSpec[]): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new CliError(`config file ${path} does not exist`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CliError(`config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new CliError(`config file ${path} must hold a JSON object`);
  const known = new Set(specs.map((s) => s.name));
  const unknown = Object.keys(json).filter((k) => !known.has(k));
  if (unknown.length) throw new CliError(`config file ${path}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} (valid: ${[...known].join(', ')})`);
  return json as Record<string, unknown>;
}

function coerce(s: OptSpec, raw: unknown, where: string): unknown {
  const bad = (want: string): never => {
    throw new CliError(`${where} must be ${want}, got ${JSON.stringify(raw)}`);
  };
  switch (s.kind) {
    case 'int':
    case 'number': {
      const v = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
      if (typeof v !== 'number' || !Number.isFinite(v) || (s.kind === 'int' && !Number.isInteger(v))) bad(s.kind === 'int' ? 'an integer' : 'a number');
      const n = v as number;
      if ((s.min !== undefined && n < s.min) || (s.max !== undefined && n > s.max)) bad(`in [${s.min ?? '-∞'}, ${s.max ?? '∞'}]`);
      return n;
    }
    case 'count': {
      if (raw === 'auto') return raw;
      const v = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
      if (typeof v !== 'number' || !Number.isInteger(v) || (s.min !== undefined && v < s.min) || (s.max !== undefined && v > s.max)) bad(`"auto" or an integer in [${s.min ?? '-∞'}, ${s.max ?? '∞'}]`);
      return v;
    }
    case 'bool':
      if (typeof raw !== 'boolean') bad('true or false');
      return raw;
    case 'string':
      if (typeof raw !== 'string' || raw === '') bad('a non-empty string');
      return raw;
    case 'enum':
      if (typeof raw !== 'string' || !s.values!.includes(raw)) bad(`one of ${s.values!.join(', ')}`);
      return raw;
    case 'paths': {
      const list = typeof raw === 'string' ? [raw] : raw;
      if (!Array.isArray(list) || list.length === 0 || list.some((p) => typeof p !== 'string' || p === '')) bad('one or more file paths');
      return list;
    }
  }
}
