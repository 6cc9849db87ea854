/**
 * Incremental decoding for streamed generation: bytes of a character split across tokens are held
 * back until the character is complete, so every chunk is valid text and the chunks concatenate
 * to exactly `decode(allIds)`.
 *
 *   const d = tokenizer.decoder();
 *   d.push(firstHalfOfEmojiId)   // → ''   (incomplete UTF-8 kept)
 *   d.push(secondHalfId)         // → '🙂'
 *   d.flush()                    // → ''   (or U+FFFD for a dangling partial character)
 */
export interface StreamingDecoder {
  /** Decodes more ids; returns the text that is now complete. */
  push(ids: number | Iterable<number>): string;
  /** Ends the stream: returns what is left (U+FFFD for an incomplete character) and resets. */
  flush(): string;
}

/** `bytesOf(ids)` must throw for unknown ids (and then leaves the decoder unchanged). */
export function createStreamingDecoder(bytesOf: (ids: ArrayLike<number>) => Uint8Array): StreamingDecoder {
  // ignoreBOM: keep a leading U+FEFF, as decoding the whole output at once does.
  let td = new TextDecoder('utf-8', { ignoreBOM: true });
  return {
    push(ids) {
      const list = typeof ids === 'number' ? [ids] : Array.isArray(ids) ? ids : Array.from(ids);
      return td.decode(bytesOf(list), { stream: true });
    },
    flush() {
      const rest = td.decode();
      td = new TextDecoder('utf-8', { ignoreBOM: true });
      return rest;
    },
  };
}
