/**
 * UTF-8 helpers for the encoder's hot paths, written out by hand to avoid allocating.
 *
 *   const buf = new Uint8Array(16);
 *   encodeUtf8('a€\uD800', 0, 3, buf)     // → 7: 61 | E2 82 AC | EF BF BD (lone surrogate → U+FFFD)
 *   decodeUtf8Strict('\xE2\x82\xAC', u16) // → 1 (u16[0] = 0x20AC); invalid UTF-8 → -1
 */

/**
 * Writes the UTF-8 of text[start..end) into `out` (room for 3 bytes per code unit) and returns the
 * byte count. Lone surrogates become U+FFFD, as TextEncoder (and so tiktoken's JS binding) does.
 */
export function encodeUtf8(text: string, start: number, end: number, out: Uint8Array): number {
  let n = 0;
  for (let k = start; k < end; k++) {
    let c = text.charCodeAt(k);
    if (c < 0x80) {
      out[n++] = c;
      continue;
    }
    if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 63);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = k + 1 < end ? text.charCodeAt(k + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
        out[n++] = 0xf0 | (cp >> 18);
        out[n++] = 0x80 | ((cp >> 12) & 63);
        out[n++] = 0x80 | ((cp >> 6) & 63);
        out[n++] = 0x80 | (cp & 63);
        k++;
        continue;
      }
      c = 0xfffd;
    }
    out[n++] = 0xe0 | (c >> 12);
    out[n++] = 0x80 | ((c >> 6) & 63);
    out[n++] = 0x80 | (c & 63);
  }
  return n;
}

/**
 * Decodes a binary string (one char per byte) as strict UTF-8 into UTF-16 units in `out` (room
 * for one unit per byte); returns the unit count, or -1 when the bytes are not complete, valid
 * UTF-8 (partial characters, overlongs, surrogates, > U+10FFFF).
 */
export function decodeUtf8Strict(bin: string, out: Uint16Array): number {
  let n = 0;
  for (let k = 0; k < bin.length; ) {
    const b = bin.charCodeAt(k);
    if (b < 0x80) {
      out[n++] = b;
      k++;
      continue;
    }
    // Lead byte → continuation count, payload bits, smallest code point (rejects overlongs).
    let need = 3;
    let cp = b & 0x07;
    let min = 0x10000;
    if (b >= 0xc2 && b <= 0xdf) [need, cp, min] = [1, b & 0x1f, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, cp, min] = [2, b & 0x0f, 0x800];
    else if (b < 0xf0 || b > 0xf4) return -1;
    if (k + need >= bin.length) return -1;
    for (let j = 1; j <= need; j++) {
      const cb = bin.charCodeAt(k + j);
      if ((cb & 0xc0) !== 0x80) return -1;
      cp = (cp << 6) | (cb & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
    if (cp >= 0x10000) {
      out[n++] = 0xd800 + ((cp - 0x10000) >> 10);
      out[n++] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
    } else out[n++] = cp;
    k += need + 1;
  }
  return n;
}
