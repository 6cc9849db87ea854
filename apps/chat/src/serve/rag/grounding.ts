/**
 * Retrieved passages → the system text that grounds a reply, and the citations a reply carries.
 *
 *   const { system, citations } = grounding(index.search(question, 3));
 *   // system: 'Answer using the numbered passages below and cite them like [1].\n\n[1] (facts.md) …'
 *   // citations: [{ index: 1, source: 'facts.md', text: '…' }, …]
 */
import type { Passage } from './doc-index.js';

export interface Citation {
  index: number;
  source: string;
  text: string;
}

export function grounding(passages: readonly Passage[]): { system: string; citations: Citation[] } {
  const citations = passages.map((p, i) => ({ index: i + 1, source: p.source, text: p.text }));
  const body = citations.map((c) => `[${c.index}] (${c.source}) ${c.text}`).join('\n\n');
  return { system: `Answer using the numbered passages below and cite them like [1].\n\n${body}`, citations };
}
