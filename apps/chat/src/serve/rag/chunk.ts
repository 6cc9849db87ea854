/**
 * Chunking for retrieval: a document's paragraphs (split at blank lines) packed into chunks of
 * about `size` tokens, consecutive chunks sharing about `overlap` tokens (the previous chunk's last
 * paragraphs, or last words of a paragraph too long for one chunk). Tokens are counted by `count`
 * (default: words, a fair stand-in for BPE tokens of English).
 *
 *   chunkText('A.\n\nB.\n\nC.', { size: 2, overlap: 1 })   // ['A.\n\nB.', 'B.\n\nC.']
 */
export interface ChunkOptions {
  /** Target tokens per chunk (default 120). */
  size?: number;
  /** Tokens shared with the previous chunk (default 20). */
  overlap?: number;
  count?: (text: string) => number;
}

const words = (s: string) => s.split(/\s+/).filter(Boolean).length;

export function chunkText(text: string, opts: ChunkOptions = {}): string[] {
  const size = Math.max(1, opts.size ?? 120);
  const overlap = Math.max(0, Math.min(opts.overlap ?? 20, size - 1));
  const count = opts.count ?? words;
  // units: paragraphs, a long one split into windows of words
  const units: string[] = [];
  for (const para of text.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean)) {
    if (count(para) <= size) {
      units.push(para);
      continue;
    }
    const w = para.split(/\s+/);
    const step = Math.max(1, size - overlap);
    for (let i = 0; i < w.length; i += step) {
      units.push(w.slice(i, i + size).join(' '));
      if (i + size >= w.length) break;
    }
  }
  const chunks: string[] = [];
  let cur: string[] = [];
  let curCount = 0;
  for (const u of units) {
    const n = count(u);
    if (cur.length && curCount + n > size) {
      chunks.push(cur.join('\n\n'));
      // carry the last units that fit in `overlap`
      const carry: string[] = [];
      let c = 0;
      for (let i = cur.length - 1; i >= 0; i--) {
        const k = count(cur[i]!);
        if (c + k > overlap) break;
        carry.unshift(cur[i]!);
        c += k;
      }
      cur = carry;
      curCount = c;
    }
    cur.push(u);
    curCount += n;
  }
  if (cur.length) chunks.push(cur.join('\n\n'));
  return chunks;
}
