/**
 * Rendering untrusted chat templates within a budget. A template from a downloaded checkpoint is
 * code: `{% for i in range(10**9) %}`, a string doubled forty times, `'x'.replace('', y)` on a long
 * string, `|indent(10**9)` or a macro calling itself would hang the process or exhaust its memory
 * inside @huggingface/jinja. Here the library's Interpreter is subclassed so that every node it
 * evaluates passes through `evaluate`, which
 * - counts steps (one per node evaluated, three per `for` iteration, one per KiB of each string
 *   value and per 8 new list elements produced — a step is roughly a microsecond of the library's
 *   work): more than `maxTemplateSteps` → TEMPLATE_BUDGET;
 * - bounds nesting (expressions, statements, macro calls within macro calls) by `maxTemplateDepth`;
 * - refuses any string longer than `maxTemplateOutput` characters and any list longer than
 *   `maxTemplateOutput / 8` elements, the rendered text included;
 * - before the operations that multiply sizes in one call — `str.replace`, `str.split`, and the
 *   filters `replace`, `join`, `indent`, `tojson(indent=…)` — computes the size of their result from
 *   their evaluated operands and refuses it when over budget, before anything is allocated;
 * and `range()` is replaced by one that counts its length against the budget first.
 * What cannot be checked that way is refused before rendering (TEMPLATE_UNSAFE): taking those
 * methods as values (`{% set f = s.replace %}`), calling a method by a computed name, and `*args`
 * / `**kwargs` spreads into them.
 *
 *   const plan = planTemplate(template.parsed, 'zephyr');
 *   renderWithBudget(template, plan, { messages, add_generation_prompt: true }, limits, 'zephyr');
 */
import { Environment, Interpreter, type Template } from '@huggingface/jinja';
import { TokenizerError } from '../errors.js';
import type { TokenizerLimits } from '../limits.js';

type Node = NonNullable<Parameters<Interpreter['evaluate']>[0]>;
type Value = ReturnType<Interpreter['evaluate']>;

/** The library's private methods this interpreter calls (present at run time, private in its types). */
interface Internals {
  applyFilter(operand: Value, filter: Node, env: Environment): Value;
  evaluateBlock(body: Node[], env: Environment): Value;
}

type GuardName = 'replace' | 'split' | 'join' | 'indent' | 'tojson';
const GUARDED_METHODS = new Set<string>(['replace', 'split']);
const GUARDED_FILTERS = new Set<string>(['replace', 'join', 'indent', 'tojson']);

interface Guard {
  name: GuardName;
  /** Keyword of each argument slot (1..n; '' for a positional one); slot 0 is the string / operand. */
  keys: string[];
}

/** What to watch while a parsed template renders (computed once per template). */
export interface TemplatePlan {
  /** Guarded calls and filters. */
  owners: Map<Node, Guard>;
  /** A node whose value fills slot `[1]` of owner `[0]`. */
  slots: Map<Node, [Node, number]>;
  /** The callee of a guarded method call: when it is evaluated, every operand is known. */
  triggers: Map<Node, Node>;
  /** What `for` loops iterate over: each element costs LOOP_STEPS when the list is known. */
  iterables: Set<Node>;
}

/** Steps per `for` iteration (the library builds a scope, a `loop` object and closures for each). */
const LOOP_STEPS = 3;

function unsafe(name: string, what: string): TokenizerError {
  return new TokenizerError(
    'TEMPLATE_UNSAFE',
    `${name}: the chat template ${what}, which cannot be run within a budget. Chat templates are untrusted code; ` +
      `write the call directly (e.g. {{ text.replace('a', 'b') }}).`,
  );
}

/** Children of an AST node (arrays, nodes, and the Map of an object literal). */
function children(node: Node): Node[] {
  const out: Node[] = [];
  for (const v of Object.values(node as object)) {
    if (Array.isArray(v)) for (const x of v) if (x && typeof x === 'object' && 'type' in x) out.push(x as Node);
    if (v instanceof Map) for (const [k, x] of v) out.push(k as Node, x as Node);
    else if (v && typeof v === 'object' && 'type' in v) out.push(v as Node);
  }
  return out;
}

/** The method name a member expression reads, when it is fixed in the source. */
function memberName(node: Node): string | undefined {
  const m = node as unknown as { computed: boolean; property: { type: string; value: unknown } };
  if (!m.computed && m.property.type === 'Identifier') return m.property.value as string;
  if (m.computed && m.property.type === 'StringLiteral') return m.property.value as string;
  return undefined;
}

/**
 * Walks the parsed template once (without recursion) and records the guarded calls and filters;
 * TEMPLATE_UNSAFE for the constructs that could dodge the guards.
 */
export function planTemplate(program: Node, name: string): TemplatePlan {
  const plan: TemplatePlan = { owners: new Map(), slots: new Map(), triggers: new Map(), iterables: new Set() };
  const callees = new Set<Node>();
  const members: Node[] = [];
  const stack: Node[] = [program];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const n = node as unknown as Record<string, Node & Record<string, unknown>>;
    if (node.type === 'CallExpression') {
      const callee = n.callee!;
      callees.add(callee);
      if (callee.type === 'MemberExpression') {
        const method = memberName(callee);
        if (method === undefined) throw unsafe(name, 'calls a method by a computed name (x[y](…))');
        if (GUARDED_METHODS.has(method)) {
          addGuard(plan, node, method as GuardName, n.args as unknown as Node[], name);
          plan.slots.set(callee.object as Node, [node, 0]);
          plan.triggers.set(callee, node);
        }
      }
    } else if (node.type === 'MemberExpression') members.push(node);
    else if (node.type === 'For') {
      const iterable = n.iterable!;
      plan.iterables.add(iterable.type === 'SelectExpression' ? (iterable.lhs as Node) : iterable);
    }
    else if (node.type === 'FilterExpression' || node.type === 'FilterStatement') {
      const filter = n.filter!;
      const filterName = filter.type === 'Identifier' ? filter.value : (filter.callee as Node & { value?: unknown } | undefined)?.value;
      if (typeof filterName === 'string' && GUARDED_FILTERS.has(filterName)) {
        addGuard(plan, node, filterName as GuardName, filter.type === 'CallExpression' ? (filter.args as Node[]) : [], name);
      }
    }
    for (const child of children(node)) stack.push(child);
  }
  for (const m of members) {
    const method = memberName(m);
    if (method !== undefined && GUARDED_METHODS.has(method) && !callees.has(m)) {
      throw unsafe(name, `takes the string method "${method}" as a value instead of calling it`);
    }
  }
  return plan;
}

function addGuard(plan: TemplatePlan, owner: Node, name: GuardName, args: Node[], template: string): void {
  const keys: string[] = [];
  args.forEach((arg, i) => {
    const a = arg as unknown as { type: string; key?: { value: string }; value?: Node };
    if (a.type === 'SpreadExpression' || a.type === 'KeywordSpreadExpression') {
      throw unsafe(template, `passes *args or **kwargs to "${name}"`);
    }
    const keyword = a.type === 'KeywordArgumentExpression';
    keys.push(keyword ? a.key!.value : '');
    plan.slots.set(keyword ? a.value! : arg, [owner, i + 1]);
  });
  plan.owners.set(owner, { name, keys });
}

/** Jinja's `range()`, refusing (before allocating) more elements than the budget allows. */
function boundedRange(budget: Budget): (start: number, stop?: number, step?: number) => number[] {
  return (start, stop, step = 1) => {
    let from = start;
    let to = stop;
    if (to === undefined) {
      to = from;
      from = 0;
    }
    if (![from, to, step].every((x) => typeof x === 'number' && Number.isFinite(x))) throw new Error('range() arguments must be finite numbers');
    if (step === 0) throw new Error('range() step must not be zero');
    const count = Math.max(0, Math.ceil((to - from) / step));
    budget.list(count, `range() of ${count} elements`);
    const out: number[] = new Array<number>(count);
    for (let k = 0; k < count; k++) out[k] = from + k * step;
    return out;
  };
}

/** Python's strftime on the current time, as @huggingface/jinja's `strftime_now` formats it. */
function strftimeNow(format: string): string {
  const date = new Date();
  const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));
  return String(format).replace(/%[YmdbBHM%]/g, (token) => {
    switch (token) {
      case '%Y':
        return String(date.getFullYear());
      case '%m':
        return pad2(date.getMonth() + 1);
      case '%d':
        return pad2(date.getDate());
      case '%b':
        return new Intl.DateTimeFormat(undefined, { month: 'short' }).format(date);
      case '%B':
        return new Intl.DateTimeFormat(undefined, { month: 'long' }).format(date);
      case '%H':
        return pad2(date.getHours());
      case '%M':
        return pad2(date.getMinutes());
      default:
        return '%';
    }
  });
}

/** The step / size accounting of one render. */
class Budget {
  steps = 0;
  readonly maxList: number;

  constructor(
    readonly limits: TokenizerLimits,
    private readonly name: string,
  ) {
    this.maxList = Math.max(1, limits.maxTemplateOutput >> 3);
  }

  over(what: string, limit: number, knob: keyof TokenizerLimits): TokenizerError {
    return new TokenizerError(
      'TEMPLATE_BUDGET',
      `${this.name}: the chat template went over its budget: ${what} (limit ${limit}, limits.${knob}). ` +
        `Chat templates are untrusted code; raise the limit only for a template you trust.`,
    );
  }

  charge(n: number): void {
    this.steps += n;
    if (this.steps > this.limits.maxTemplateSteps) throw this.over(`more than ${this.limits.maxTemplateSteps} steps`, this.limits.maxTemplateSteps, 'maxTemplateSteps');
  }

  text(length: number, what: string): void {
    if (length > this.limits.maxTemplateOutput) throw this.over(`${what} of ${length} characters`, this.limits.maxTemplateOutput, 'maxTemplateOutput');
  }

  list(length: number, what: string): void {
    if (length > this.maxList) throw this.over(what, this.maxList, 'maxTemplateOutput');
    this.charge(length >> 3);
  }
}

function str(v: Value | undefined): string | undefined {
  return v?.type === 'StringValue' ? (v.value as string) : undefined;
}

function int(v: Value | undefined): number | undefined {
  return v?.type === 'IntegerValue' ? (v.value as number) : undefined;
}

/** Occurrences of `needle` (non-empty) in `hay`, counting no further than `cap`. */
function occurrences(hay: string, needle: string, cap: number): number {
  let n = 0;
  for (let at = hay.indexOf(needle); at >= 0 && n < cap; at = hay.indexOf(needle, at + needle.length)) n++;
  return n;
}

/** An upper-bound-ish size of `tojson(value, indent)`, stopping once over `cap`. */
function jsonSize(value: Value, indent: number, cap: number): number {
  let size = 0;
  const stack: Array<[Value, number]> = [[value, 0]];
  while (stack.length > 0 && size <= cap) {
    const [v, depth] = stack.pop()!;
    const pad = indent > 0 ? 1 + indent * (depth + 1) : 0;
    if (v.type === 'StringValue') size += (v.value as string).length + 2;
    else if (v.type === 'ArrayValue' || v.type === 'TupleValue') {
      const items = v.value as Value[];
      size += 2 + items.length * (2 + pad) + pad;
      for (const x of items) stack.push([x, depth + 1]);
    } else if (v.type === 'ObjectValue') {
      const entries = v.value as Map<string, Value>;
      size += 2 + pad;
      for (const [k, x] of entries) {
        size += k.length + 6 + pad;
        stack.push([x, depth + 1]);
      }
    } else size += 24;
  }
  return size;
}

/** Refuses a guarded call whose result would go over the budget; `slots` = [operand, ...args]. */
function checkGuard(guard: Guard, slots: (Value | undefined)[], budget: Budget): void {
  const positional: (Value | undefined)[] = [];
  const kw = new Map<string, Value | undefined>();
  guard.keys.forEach((key, i) => (key === '' ? positional.push(slots[i + 1]) : kw.set(key, slots[i + 1])));
  const subject = slots[0];
  const s = str(subject);
  const L = budget.limits.maxTemplateOutput;
  switch (guard.name) {
    case 'replace': {
      const old = str(positional[0]);
      const rep = str(positional[1]);
      if (s === undefined || old === undefined || rep === undefined || rep.length <= old.length) return;
      budget.charge(s.length >> 10);
      const count = int(positional[2] ?? kw.get('count'));
      const cap = count !== undefined && count >= 0 ? count : Infinity;
      const hits = old === '' ? Math.min(cap, s.length + 1) : occurrences(s, old, cap);
      budget.text(s.length + hits * (rep.length - old.length), 'a replace() result');
      return;
    }
    case 'split': {
      if (s === undefined) return;
      budget.charge(s.length >> 10);
      const sep = positional[0] ?? kw.get('sep');
      const sepText = str(sep);
      const parts = sepText === undefined ? (s.match(/\S+/g)?.length ?? 0) : sepText === '' ? 0 : occurrences(s, sepText, budget.maxList + 1) + 1;
      budget.list(parts, `a split() into ${parts} parts`);
      return;
    }
    case 'join': {
      const sep = str(positional[0] ?? kw.get('separator')) ?? '';
      const items = s !== undefined ? Array.from(s) : subject?.type === 'ArrayValue' || subject?.type === 'TupleValue' ? (subject.value as Value[]) : undefined;
      if (items === undefined) return;
      let total = Math.max(0, items.length - 1) * sep.length;
      for (const item of items) total += typeof item === 'string' ? item.length : String((item as Value).value).length;
      budget.charge(items.length >> 3);
      budget.text(total, 'a join() result');
      return;
    }
    case 'indent': {
      if (s === undefined) return;
      const width = int(positional[0] ?? kw.get('width')) ?? 4;
      budget.text(Math.max(0, width), 'an indent() width');
      const lines = occurrences(s, '\n', Infinity) + 1;
      budget.charge(s.length >> 10);
      budget.text(s.length + lines * Math.max(0, width), 'an indent() result');
      return;
    }
    case 'tojson': {
      const indent = int(kw.get('indent'));
      if (subject === undefined || indent === undefined || indent <= 0) return;
      budget.text(indent, 'a tojson() indent');
      const size = jsonSize(subject, indent, L);
      budget.charge(size >> 10);
      budget.text(size, 'a tojson() result');
      return;
    }
  }
}

/** The Interpreter with the checks of the file comment. */
class BudgetedInterpreter extends Interpreter {
  private depth = 0;
  private readonly records = new Map<Node, (Value | undefined)[][]>();
  private readonly seenLists = new WeakSet<object>();

  constructor(
    env: Environment,
    private readonly plan: TemplatePlan,
    private readonly budget: Budget,
  ) {
    super(env);
  }

  override evaluate(statement: Node | undefined, environment: Environment): Value {
    const budget = this.budget;
    budget.charge(1);
    if (statement === undefined) return super.evaluate(statement, environment);
    if (++this.depth > budget.limits.maxTemplateDepth) {
      this.depth--;
      throw budget.over(`nesting deeper than ${budget.limits.maxTemplateDepth}`, budget.limits.maxTemplateDepth, 'maxTemplateDepth');
    }
    try {
      const guard = this.plan.owners.get(statement);
      const value = guard === undefined ? super.evaluate(statement, environment) : this.guarded(statement, guard, environment);
      if (value === undefined) return value; // the library's `first` / `last` of an empty list: its own error follows
      this.account(value);
      if (this.plan.iterables.has(statement)) {
        const v = value.value as unknown;
        budget.charge(LOOP_STEPS * (Array.isArray(v) ? v.length : v instanceof Map ? v.size : 0));
      }
      const slot = this.plan.slots.get(statement);
      if (slot !== undefined) this.fill(slot[0], slot[1], value);
      const owner = this.plan.triggers.get(statement);
      if (owner !== undefined) this.check(owner);
      return value;
    } finally {
      this.depth--;
    }
  }

  /** Evaluates a guarded call or filter with a record of its operands. */
  private guarded(node: Node, guard: Guard, env: Environment): Value {
    const stack = this.records.get(node) ?? [];
    this.records.set(node, stack);
    const record: (Value | undefined)[] = new Array(guard.keys.length + 1);
    stack.push(record);
    try {
      if (node.type === 'CallExpression') return super.evaluate(node, env);
      const internals = this as unknown as Internals;
      const n = node as unknown as { operand: Node; body: Node[]; filter: Node };
      // Filters: the operand is evaluated here (as the library does), so the check can run when the
      // last argument is known (or now, for a filter without arguments) — before the filter runs.
      const operand = node.type === 'FilterExpression' ? this.evaluate(n.operand, env) : internals.evaluateBlock(n.body, env);
      record[0] = operand;
      if (guard.keys.length === 0) checkGuard(guard, record, this.budget);
      return internals.applyFilter(operand, n.filter, env);
    } finally {
      stack.pop();
    }
  }

  private fill(owner: Node, slot: number, value: Value): void {
    const record = this.records.get(owner)?.at(-1);
    if (record === undefined) return;
    record[slot] = value;
    const guard = this.plan.owners.get(owner)!;
    // Filters run right after their last argument is evaluated (methods: after the callee, see triggers).
    if (owner.type !== 'CallExpression' && slot >= 1 && record.filter((v) => v !== undefined).length === guard.keys.length + 1) {
      checkGuard(guard, record, this.budget);
    }
  }

  private check(owner: Node): void {
    const record = this.records.get(owner)?.at(-1);
    if (record !== undefined) checkGuard(this.plan.owners.get(owner)!, record, this.budget);
  }

  /** Steps and size limits for a value just produced. */
  private account(value: Value): void {
    const budget = this.budget;
    if (value.type === 'StringValue') {
      const length = (value.value as string).length;
      budget.text(length, 'a string');
      if (length >= 1024) budget.charge(length >> 10);
    } else if ((value.type === 'ArrayValue' || value.type === 'TupleValue') && !this.seenLists.has(value)) {
      this.seenLists.add(value);
      budget.list((value.value as unknown[]).length, `a list of ${(value.value as unknown[]).length} elements`);
    }
  }
}

/**
 * Renders a parsed template as @huggingface/jinja's `Template.render(context)` does (same globals:
 * true/false/none in both cases, raise_exception, range, strftime_now), within the budget of
 * `limits`; TEMPLATE_BUDGET when it goes over.
 */
export function renderWithBudget(template: Template, plan: TemplatePlan, context: Record<string, unknown>, limits: TokenizerLimits, name: string): string {
  const budget = new Budget(limits, name);
  const env = new Environment();
  for (const [key, value] of Object.entries({ false: false, true: true, none: null, False: false, True: true, None: null })) env.set(key, value);
  env.set('raise_exception', (message: string) => {
    throw new Error(message);
  });
  env.set('range', boundedRange(budget));
  env.set('strftime_now', strftimeNow);
  for (const [key, value] of Object.entries(context)) env.set(key, value);
  const result = new BudgetedInterpreter(env, plan, budget).run(template.parsed);
  return result.value as string;
}
