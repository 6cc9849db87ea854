/**
 * Arithmetic problems for the calculator tool-call examples, and the calculator itself (what the
 * `tool` message of an example says). Integers only, so every result is exact.
 *
 *   const p = makeProblem(rng(1));   // → { expression: '17 + 25', result: 42, words: '17 plus 25' }
 *   calculate('17 + 25')             // → 42
 *   calculate('6 * 7 - 2')           // → 40 (* before + and -, then left to right)
 *   calculate('2 ** 3')              // throws RangeError: not an expression the calculator knows
 */
import type { Rng } from './rng.js';

export interface Problem {
  /** What goes into the tool call: numbers and operators with single spaces, e.g. '17 + 25'. */
  expression: string;
  /** Its value. */
  result: number;
  /** The same in words, for some questions: '17 plus 25'. */
  words: string;
}

const WORD: Record<string, string> = { '+': 'plus', '-': 'minus', '*': 'times' };

/** A random problem: a + b, a - b (either sign), or a * b with smaller factors. */
export function makeProblem(r: Rng): Problem {
  const op = r.pick(['+', '+', '-', '-', '*'] as const);
  const a = op === '*' ? 2 + r.int(11) : r.int(100);
  const b = op === '*' ? 2 + r.int(11) : r.int(100);
  const expression = `${a} ${op} ${b}`;
  return { expression, result: calculate(expression), words: `${a} ${WORD[op]!} ${b}` };
}

/**
 * The value of an expression of integers joined by + - * (spaces optional; * binds tighter).
 * Anything else is a RangeError naming the expression.
 */
export function calculate(expression: string): number {
  const tokens = expression.match(/\d+|[+\-*]|\S/g) ?? [];
  const bad = () => new RangeError(`calculator: cannot evaluate ${JSON.stringify(expression)} (integers joined by +, - and * only)`);
  if (tokens.length % 2 === 0) throw bad();
  const terms: number[] = [];
  const signs: number[] = [1];
  let product = num(tokens[0], bad);
  for (let i = 1; i < tokens.length; i += 2) {
    const op = tokens[i];
    const v = num(tokens[i + 1], bad);
    if (op === '*') product *= v;
    else if (op === '+' || op === '-') {
      terms.push(product);
      signs.push(op === '+' ? 1 : -1);
      product = v;
    } else throw bad();
  }
  terms.push(product);
  return terms.reduce((sum, t, i) => sum + signs[i]! * t, 0);
}

function num(t: string | undefined, bad: () => RangeError): number {
  if (t === undefined || !/^\d+$/.test(t)) throw bad();
  return Number(t);
}
