/**
 * GPT-2's `bytes_to_unicode` table, used by byte-level BPE tokenizer.json files to write token
 * bytes as printable text: printable Latin-1 bytes map to themselves, the other 68 bytes to
 * U+0100.. in byte order (space → 'Ġ', newline → 'Ċ').
 *
 *   binaryToByteLevel(' the')   // 'Ġthe'
 *   byteLevelToBinary('Ġthe')   // ' the'
 *   byteLevelToBinary('<|x|>')  // '<|x|>' (all printable ASCII)
 */

/** byte → its printable char. */
export const BYTE_TO_CHAR: readonly string[] = buildTable();

const CHAR_TO_BYTE = new Map<string, number>(BYTE_TO_CHAR.map((c, b) => [c, b]));

function buildTable(): string[] {
  const table: string[] = new Array<string>(256);
  const printable = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let n = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCharCode(printable(b) ? b : 256 + n++);
  return table;
}

/** Binary string (one char per byte) → byte-level token text. */
export function binaryToByteLevel(bin: string): string {
  let s = '';
  for (let i = 0; i < bin.length; i++) s += BYTE_TO_CHAR[bin.charCodeAt(i) & 0xff]!;
  return s;
}

/** Byte-level token text → binary string, or undefined if a char is outside the table. */
export function byteLevelToBinary(text: string): string | undefined {
  let s = '';
  for (const ch of text) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b === undefined) return undefined;
    s += String.fromCharCode(b);
  }
  return s;
}
