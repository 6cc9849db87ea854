/**
 * JSON text as Python's `json.dumps(obj, indent=2, sort_keys=True)` writes it (what PEFT's
 * PeftConfigMixin.save_pretrained uses, peft/config.py): keys sorted, two-space indent, non-ASCII
 * escaped as \uXXXX (ensure_ascii), no trailing newline, and float fields written as floats
 * (0.0, 1e-05) so the file is byte-identical to PEFT's.
 *
 *   pythonJson({ b: 1, a: [] }, new Set());            // '{\n  "a": [],\n  "b": 1\n}'
 *   pythonJson({ lora_dropout: 0 }, new Set(['lora_dropout'])); // '{\n  "lora_dropout": 0.0\n}'
 */
export function pythonJson(value: unknown, floatKeys: ReadonlySet<string>): string {
  return dump(value, '', floatKeys, false);
}

function dump(v: unknown, pad: string, floatKeys: ReadonlySet<string>, asFloat: boolean): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return asFloat ? pyFloat(v) : Number.isInteger(v) ? String(v) : pyFloat(v);
  if (typeof v === 'string') return pyString(v);
  const inner = pad + '  ';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[\n${v.map((x) => inner + dump(x, inner, floatKeys, asFloat)).join(',\n')}\n${pad}]`;
  }
  const keys = Object.keys(v as object).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (keys.length === 0) return '{}';
  const o = v as Record<string, unknown>;
  return `{\n${keys.map((k) => `${inner}${pyString(k)}: ${dump(o[k], inner, floatKeys, floatKeys.has(k))}`).join(',\n')}\n${pad}}`;
}

/** Python's float repr: shortest round-trip digits, exponent form below 1e-4 or from 1e16, always a '.0' or exponent. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expStr] = x.toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  if (exp < -4 || exp >= 16) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  const s = String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

function pyString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || (c > 0x7f && c <= 0xffff)) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else if (c > 0xffff) {
      const v = c - 0x10000;
      out += `\\u${(0xd800 + (v >> 10)).toString(16)}\\u${(0xdc00 + (v & 0x3ff)).toString(16)}`;
    } else out += ch;
  }
  return out + '"';
}
