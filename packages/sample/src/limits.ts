/**
 * Every size bound of @llm/sample, in one place. Generation options, regexes and JSON schemas may
 * come from untrusted clients (a server passes them through), so each size that decides how much
 * memory or time a call takes is checked against these before anything is allocated; a value past
 * a bound is a SampleError naming the option, the value and the bound.
 *
 *   SAMPLE_LIMITS.maxBeams                          // 256
 *   regexConstraint(re, vocab, { eosIds, limits: { maxDfaStates: 500_000 } });   // raise one per call
 *
 * Generation bounds (`maxBeams`, `maxDraftTokens`, `maxStopStrings`, `maxStopStringLength`) are
 * fixed: a server that needs lower ones checks before calling. Constraint bounds (`ConstraintLimits`)
 * can be raised (or lowered) per constraint with the `limits` option of `regexConstraint`,
 * `jsonSchemaConstraint` and `schemaToRegex`.
 */

/** Bounds of a regex or JSON-schema constraint: what its compilers and automata may grow to. */
export interface ConstraintLimits {
  /** Longest regex source (characters), also the longest regex a JSON schema may compile to. */
  readonly maxPatternLength: number;
  /** Deepest group nesting of a regex: `((((a))))` is 4. */
  readonly maxRegexDepth: number;
  /** Largest count a quantifier may name (`a{0,10000}`), and JSON schema's maxLength / maxItems. */
  readonly maxRepeat: number;
  /** Most NFA states a regex may compile to (each is a few dozen bytes). */
  readonly maxNfaStates: number;
  /** Most DFA states the lazy DFA may create while it is used (subset construction can be exponential). */
  readonly maxDfaStates: number;
  /** Most NFA-state entries summed over all DFA states (their memory: ≈ 12 bytes each). */
  readonly maxDfaMembers: number;
  /** Deepest nesting of a JSON schema (objects, arrays, anyOf, enum / const values). */
  readonly maxSchemaDepth: number;
}

export interface SampleLimits extends ConstraintLimits {
  /** Most beams of beamSearch (each beam is a row of the KV cache). */
  readonly maxBeams: number;
  /** Most tokens the draft model proposes per round in speculativeGenerate. */
  readonly maxDraftTokens: number;
  /** Most stop strings per call. */
  readonly maxStopStrings: number;
  /** Longest stop string (characters). */
  readonly maxStopStringLength: number;
}

export const SAMPLE_LIMITS: SampleLimits = Object.freeze({
  maxBeams: 256,
  maxDraftTokens: 64,
  maxStopStrings: 64,
  maxStopStringLength: 1024,
  maxPatternLength: 1_000_000,
  maxRegexDepth: 500,
  maxRepeat: 10_000,
  maxNfaStates: 1_000_000,
  maxDfaStates: 100_000,
  maxDfaMembers: 20_000_000,
  maxSchemaDepth: 100,
});

/** The constraint limits of a call: SAMPLE_LIMITS with `overrides` (each a positive integer) applied. */
export function constraintLimits(overrides: Partial<ConstraintLimits> | undefined, fail: (message: string) => never): ConstraintLimits {
  if (overrides === undefined) return SAMPLE_LIMITS;
  if (overrides === null || typeof overrides !== 'object') fail(`limits must be an object of constraint limits, got ${String(overrides)}`);
  const known = ['maxPatternLength', 'maxRegexDepth', 'maxRepeat', 'maxNfaStates', 'maxDfaStates', 'maxDfaMembers', 'maxSchemaDepth'] as const;
  const out: Record<string, number> = {};
  for (const k of known) {
    const v = overrides[k] ?? SAMPLE_LIMITS[k];
    if (!Number.isSafeInteger(v) || v < 1) fail(`limits.${k} must be a positive integer, got ${String(v)}`);
    out[k] = v;
  }
  const unknown = Object.keys(overrides).filter((k) => !(known as readonly string[]).includes(k));
  if (unknown.length > 0) fail(`limits: unknown key ${JSON.stringify(unknown[0])} (known: ${known.join(', ')})`);
  return out as unknown as ConstraintLimits;
}
