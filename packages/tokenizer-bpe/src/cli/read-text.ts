/**
 * Streams a large text file as chunks for `trainBpe`, cutting only at a newline that sits between
 * two non-space characters. With the GPT-2, cl100k and o200k patterns such a newline is always a
 * piece of its own, so the pieces (and the trained merges) are the same as for the whole file.
 *
 *   for await (const chunk of readTextChunks('corpus.txt')) counter.add(chunk);
 */
import { createReadStream } from 'node:fs';

const SPACE = /\s/;

/** Chunks of about `chunkChars` characters (more if no safe cut is found). */
export async function* readTextChunks(
  source: string | AsyncIterable<string | Uint8Array>,
  chunkChars = 1 << 23,
): AsyncGenerator<string> {
  const highWaterMark = Math.min(1 << 20, Math.max(1024, chunkChars));
  const stream =
    typeof source === 'string' ? createReadStream(source, { encoding: 'utf8', highWaterMark }) : source;
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const data of stream) {
    buffer += typeof data === 'string' ? data : decoder.decode(data, { stream: true });
    if (buffer.length < chunkChars) continue;
    const cut = safeCut(buffer);
    if (cut > 0) {
      yield buffer.slice(0, cut);
      buffer = buffer.slice(cut);
    } else if (buffer.length > 4 * chunkChars) {
      yield buffer; // no safe cut in sight (one enormous line): give up on exactness here
      buffer = '';
    }
  }
  buffer += decoder.decode();
  if (buffer.length > 0) yield buffer;
}

/**
 * The index just after the last "\n" with a non-space character on both sides, or -1.
 *
 *   safeCut('ab\ncd\n\nef')   // 3
 */
export function safeCut(text: string): number {
  for (let i = text.lastIndexOf('\n', text.length - 2); i > 0; i = text.lastIndexOf('\n', i - 1)) {
    if (!SPACE.test(text[i - 1]!) && !SPACE.test(text[i + 1]!)) return i + 1;
  }
  return -1;
}
