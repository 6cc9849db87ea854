/**
 * Incremental, strict UTF-8 decoding one byte at a time, with no allocation: the decoder state
 * ("pending") is one number — NO_PENDING between characters, or a packed partial character
 * (bits so far, continuation bytes still needed, and the allowed range of the next byte, which
 * rules out overlong forms, surrogates and code points above U+10FFFF exactly as TextDecoder's
 * fatal mode does).
 *
 *   let r = utf8Step(NO_PENDING, 0xc3);   // 'ä' is C3 A4: r is pending (isPending(r) === true)
 *   pendingRange(r)                        // → [0xc0, 0xff]: code points that start with byte C3
 *   utf8Step(r, 0xa4)                      // → 0xe4 ('ä')
 *   utf8Step(NO_PENDING, 0xff)             // → INVALID
 */

/** No partial character. */
export const NO_PENDING = 0;
/** Returned by utf8Step for a byte that cannot continue valid UTF-8. */
export const INVALID = -1;
/** Pending states are ≥ this (code points are below it). */
const PENDING_BASE = 1 << 21;

/** Allowed [lo, hi] of the first continuation byte, by lead kind (E0, ED, F0 and F4 restrict it). */
const NEXT_LO = [0x80, 0xa0, 0x80, 0x90, 0x80];
const NEXT_HI = [0xbf, 0xbf, 0x9f, 0xbf, 0x8f];

const pend = (acc: number, kind: number, need: number): number => PENDING_BASE + ((acc << 5) | (kind << 2) | need);

/** Whether a utf8Step result is a partial character (rather than a code point or INVALID). */
export const isPending = (r: number): boolean => r >= PENDING_BASE;

/**
 * Feeds `byte` to a decoder in state `pending`: returns a finished code point (0…0x10FFFF), a
 * new pending state (isPending), or INVALID.
 */
export function utf8Step(pending: number, byte: number): number {
  if (pending === NO_PENDING) return leadByte(byte);
  const bits = pending - PENDING_BASE;
  const need = bits & 3;
  const kind = (bits >> 2) & 7;
  if (byte < NEXT_LO[kind]! || byte > NEXT_HI[kind]!) return INVALID;
  const acc = ((bits >> 5) << 6) | (byte & 0x3f);
  return need === 1 ? acc : pend(acc, 0, need - 1);
}

function leadByte(b: number): number {
  if (b < 0x80) return b;
  if (b >= 0xc2 && b <= 0xdf) return pend(b & 0x1f, 0, 1);
  if (b >= 0xe0 && b <= 0xef) return pend(b & 0x0f, b === 0xe0 ? 1 : b === 0xed ? 2 : 0, 2);
  if (b >= 0xf0 && b <= 0xf4) return pend(b & 0x07, b === 0xf0 ? 3 : b === 0xf4 ? 4 : 0, 3);
  return INVALID;
}

/** [lo, hi]: the code points whose UTF-8 starts with the bytes behind `pending`. */
export function pendingRange(pending: number): [number, number] {
  const bits = pending - PENDING_BASE;
  const need = bits & 3;
  const kind = (bits >> 2) & 7;
  const acc = bits >> 5;
  const shift = 6 * (need - 1);
  const lo = ((acc << 6) | (NEXT_LO[kind]! & 0x3f)) << shift;
  const hi = (((acc << 6) | (NEXT_HI[kind]! & 0x3f)) << shift) | ((1 << shift) - 1);
  return [lo, hi];
}

/**
 * Feeds all of `bytes`: the final decoder state and the code points finished on the way, or
 * null when the bytes are invalid UTF-8 after `pending`.
 *
 *   decodeFrom(NO_PENDING, Uint8Array.of(0x61, 0xc3))   // → { codePoints: [0x61], pending: <C3…> }
 */
export function decodeFrom(pending: number, bytes: Uint8Array): { codePoints: number[]; pending: number } | null {
  const codePoints: number[] = [];
  let p = pending;
  for (const b of bytes) {
    const r = utf8Step(p, b);
    if (r === INVALID) return null;
    if (isPending(r)) p = r;
    else {
      codePoints.push(r);
      p = NO_PENDING;
    }
  }
  return { codePoints, pending: p };
}
