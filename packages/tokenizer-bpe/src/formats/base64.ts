/**
 * Strict standard base64 (RFC 4648 alphabet, `=` padding, length a multiple of 4, zero trailing
 * bits) straight to and from binary strings (one char per byte), the key form of rank maps.
 * Reading works on a range of a larger string so that rank files need no per-line substrings.
 *
 *   base64ToBinary('IGhlbGxv', 0, 8)   // → ' hello'
 *   base64ToBinary('IG=', 0, 3)        // → undefined (not base64)
 *   binaryToBase64(' hello')           // → 'IGhlbGxv'
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUE = new Int8Array(128).fill(-1);
for (let k = 0; k < 64; k++) VALUE[ALPHABET.charCodeAt(k)] = k;

let scratch = new Uint8Array(256);

function sextet(s: string, k: number): number {
  const c = s.charCodeAt(k);
  return c < 128 ? VALUE[c]! : -1;
}

/** Decodes s[start..end) to a binary string, or undefined when it is not canonical base64. */
export function base64ToBinary(s: string, start: number, end: number): string | undefined {
  const len = end - start;
  if (len === 0 || len % 4 !== 0) return undefined;
  let pad = 0;
  if (s.charCodeAt(end - 1) === 0x3d) pad = s.charCodeAt(end - 2) === 0x3d ? 2 : 1;
  const nBytes = (len / 4) * 3 - pad;
  if (scratch.length < nBytes + 3) scratch = new Uint8Array(2 * nBytes + 3);
  const out = scratch;
  let n = 0;
  for (let k = start; k < end; k += 4) {
    const last = k + 4 === end;
    const a = sextet(s, k);
    const b = sextet(s, k + 1);
    const c = last && pad === 2 ? 0 : sextet(s, k + 2);
    const d = last && pad >= 1 ? 0 : sextet(s, k + 3);
    if ((a | b | c | d) < 0) return undefined;
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[n] = v >> 16;
    out[n + 1] = (v >> 8) & 255;
    out[n + 2] = v & 255;
    n += 3;
  }
  // Canonical form only: the padded-away bits must be zero.
  if ((pad === 1 && out[nBytes] !== 0) || (pad === 2 && (out[nBytes] !== 0 || out[nBytes + 1] !== 0))) return undefined;
  if (nBytes === 1) return String.fromCharCode(out[0]!);
  if (nBytes === 2) return String.fromCharCode(out[0]!, out[1]!);
  return String.fromCharCode.apply(null, out.subarray(0, nBytes) as unknown as number[]);
}

/** Encodes a binary string (char codes 0–255) as padded base64. */
export function binaryToBase64(bin: string): string {
  let out = '';
  for (let k = 0; k < bin.length; k += 3) {
    const a = bin.charCodeAt(k);
    const b = k + 1 < bin.length ? bin.charCodeAt(k + 1) : 0;
    const c = k + 2 < bin.length ? bin.charCodeAt(k + 2) : 0;
    const v = (a << 16) | (b << 8) | c;
    out += ALPHABET[v >> 18]! + ALPHABET[(v >> 12) & 63]!;
    out += k + 1 < bin.length ? ALPHABET[(v >> 6) & 63]! : '=';
    out += k + 2 < bin.length ? ALPHABET[v & 63]! : '=';
  }
  return out;
}
