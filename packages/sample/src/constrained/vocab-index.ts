/**
 * A vocabulary laid out as a byte trie in preorder, so a constraint can test every token against
 * a state in one pass and skip whole subtrees once a prefix fails (all tokens starting with `{"`
 * die together). Node i has a byte, a depth (its prefix length) and `skip[i]`, the index just
 * past its subtree; tokens whose bytes end at node i are `ids[tokenStart[i] … tokenStart[i+1])`.
 * Build it once per vocabulary and pass it wherever a TokenVocab goes to share it between
 * constraints (it is one).
 *
 *   const index = indexVocab(vocab);            // vocab: 'a', 'ab', 'b' → nodes a, b (under a), b
 *   index.nodeCount                             // → 3
 *   regexConstraint('ab*', index, { eosIds })   // no rebuild
 */
import { SampleError } from '../errors.js';
import type { TokenVocab } from '../types.js';

/** Largest vocabulary a constraint indexes, and longest token (bytes; the trie stores depths as uint16). */
const MAX_VOCAB = 1 << 24;
const MAX_TOKEN_BYTES = 65_535;

export class VocabIndex implements TokenVocab {
  readonly size: number;
  /** Per node: the byte on the edge into it. */
  readonly byte: Uint8Array;
  /** Per node: how many bytes its prefix has (1 for children of the root). */
  readonly depth: Uint16Array;
  /** Per node: the index of the first node after its subtree. */
  readonly skip: Int32Array;
  /** Per node (+1 at the end): where its token ids start in `ids`. */
  readonly tokenStart: Int32Array;
  /** Token ids grouped by node, in node order. */
  readonly ids: Int32Array;
  /** Longest token, in bytes. */
  readonly maxDepth: number;
  private readonly bytes: Uint8Array[];

  constructor(vocab: TokenVocab) {
    if (!Number.isSafeInteger(vocab?.size) || vocab.size < 1 || vocab.size > MAX_VOCAB) {
      throw new SampleError('INVALID_ARGUMENT', `a constraint vocabulary needs a size in [1, ${MAX_VOCAB}], got ${String(vocab?.size)}`);
    }
    this.size = vocab.size;
    this.bytes = Array.from({ length: vocab.size }, (_, id) => {
      const b = vocab.tokenBytes(id);
      if (!(b instanceof Uint8Array)) throw new SampleError('INVALID_ARGUMENT', `the constraint vocabulary gave no bytes for token ${id}`);
      if (b.length > MAX_TOKEN_BYTES) throw new SampleError('INVALID_ARGUMENT', `token ${id} has ${b.length} bytes; a constraint vocabulary allows at most ${MAX_TOKEN_BYTES}`);
      return b;
    });
    const order = sortByBytes(this.bytes);
    const nodes = buildTrie(order, this.bytes);
    this.byte = nodes.byte;
    this.depth = nodes.depth;
    this.skip = nodes.skip;
    this.tokenStart = nodes.tokenStart;
    this.ids = Int32Array.from(order);
    this.maxDepth = this.depth.reduce((m, d) => Math.max(m, d), 0);
  }

  tokenBytes(id: number): Uint8Array {
    return this.bytes[id] ?? new Uint8Array(0);
  }

  /** Trie nodes (distinct non-empty token prefixes). */
  get nodeCount(): number {
    return this.byte.length;
  }
}

/**
 * Indexes `vocab` (or returns it when it already is a VocabIndex).
 *
 *   indexVocab(vocabFromTokenizer(tok)).nodeCount   // cl100k: ≈ 0.7 M nodes
 */
export function indexVocab(vocab: TokenVocab): VocabIndex {
  return vocab instanceof VocabIndex ? vocab : new VocabIndex(vocab);
}

/** Ids of non-empty tokens sorted by their bytes (lexicographically; prefixes first). */
function sortByBytes(bytes: readonly Uint8Array[]): number[] {
  // One char per byte: string order is then byte order, and string sorting is fast.
  const keys = bytes.map(latin1);
  const ids = keys.flatMap((k, id) => (k.length > 0 ? [id] : []));
  return ids.sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : a - b));
}

/** One char per byte, without spreading the bytes into arguments (tokens may be long). */
function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, i + 4096));
  return s;
}

/** The preorder trie arrays of tokens given in byte order (a prefix before its extensions). */
function buildTrie(order: readonly number[], bytes: readonly Uint8Array[]) {
  const byte: number[] = [];
  const depth: number[] = [];
  const skip: number[] = [];
  const endNode: number[] = []; // per sorted token: the node where its bytes end (non-decreasing)
  const path: number[] = []; // node index at each depth − 1 along the current token
  let prev: Uint8Array = new Uint8Array(0);
  for (const id of order) {
    const b = bytes[id]!;
    let common = 0;
    while (common < b.length && common < prev.length && b[common] === prev[common]) common++;
    while (path.length > common) skip[path.pop()!] = byte.length; // close finished subtrees
    for (let d = common; d < b.length; d++) {
      path.push(byte.length);
      byte.push(b[d]!);
      depth.push(d + 1);
      skip.push(-1);
    }
    endNode.push(path[path.length - 1]!);
    prev = b;
  }
  while (path.length > 0) skip[path.pop()!] = byte.length;
  const tokenStart = new Int32Array(byte.length + 1);
  let k = 0;
  for (let i = 0; i <= byte.length; i++) {
    while (k < endNode.length && endNode[k]! < i) k++;
    tokenStart[i] = k;
  }
  return { byte: Uint8Array.from(byte), depth: Uint16Array.from(depth), skip: Int32Array.from(skip), tokenStart };
}
