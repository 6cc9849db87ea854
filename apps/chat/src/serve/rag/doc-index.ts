/**
 * The retrieval index of `--docs DIR`: every .txt / .md file under DIR chunked (chunk.ts) and
 * indexed with MiniSearch (BM25, prefix and light fuzzy matching); `search` returns the top passages.
 *
 *   const index = await DocIndex.fromDir('docs');
 *   index.search('What is the capital of Zorvath?', 3)   // [{ id, source: 'zorvath.md', text, score }, …]
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import MiniSearch from 'minisearch';
import { ServeError } from '../errors.js';
import { chunkText, type ChunkOptions } from './chunk.js';

export interface Passage {
  id: number;
  /** The file, relative to the docs directory. */
  source: string;
  text: string;
  score: number;
}

interface Doc {
  id: number;
  source: string;
  text: string;
}

/** Words too common to help ranking a question. */
const STOP = new Set('a an and are as at be by do does did for from has have how in is it its of on or that the this to was were what when where which who whom whose why will with'.split(' '));

export class DocIndex {
  private readonly search_: MiniSearch<Doc>;
  private readonly docs: Doc[] = [];

  constructor(files: readonly { source: string; text: string }[], opts: ChunkOptions = {}) {
    this.search_ = new MiniSearch<Doc>({
      fields: ['text', 'source'],
      storeFields: ['source', 'text'],
      processTerm: (t) => {
        const w = t.toLowerCase();
        return STOP.has(w) ? null : w;
      },
      searchOptions: { boost: { text: 2 }, prefix: true, fuzzy: 0.1 },
    });
    for (const f of files) for (const text of chunkText(f.text, opts)) this.docs.push({ id: this.docs.length, source: f.source, text });
    this.search_.addAll(this.docs);
  }

  get size(): number {
    return this.docs.length;
  }

  /** Read every .txt and .md file under `dir` (recursively). */
  static async fromDir(dir: string, opts: ChunkOptions = {}): Promise<DocIndex> {
    const files: { source: string; text: string }[] = [];
    const walk = async (d: string): Promise<void> => {
      const entries = await readdir(d, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
        throw new ServeError('INVALID_REQUEST', `--docs ${dir}: cannot read ${d} (${e.code ?? e.message}); pass a directory of .txt / .md files`);
      });
      for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
        const p = join(d, e.name);
        if (e.isDirectory()) await walk(p);
        else if (['.txt', '.md'].includes(extname(e.name).toLowerCase())) files.push({ source: relative(dir, p), text: await readFile(p, 'utf8') });
      }
    };
    await walk(dir);
    if (!files.length) throw new ServeError('INVALID_REQUEST', `--docs ${dir}: no .txt or .md files found`);
    return new DocIndex(files, opts);
  }

  search(query: string, k = 3): Passage[] {
    return this.search_
      .search(query)
      .slice(0, k)
      .map((r) => ({ id: r.id as number, source: r.source as string, text: r.text as string, score: r.score }));
  }
}
