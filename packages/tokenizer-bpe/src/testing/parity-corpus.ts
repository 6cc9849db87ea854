/**
 * The documents the tiktoken parity tests encode: hand-written text of many kinds (prose, code,
 * scripts, emoji, whitespace and digit runs, contractions, lone surrogates, Unicode corner cases)
 * plus a seeded fuzz of short random strings. Generated here, so no third-party text is needed.
 *
 *   const docs = parityCorpus();        // ~3500 strings, identical on every run
 *   randomText(rng(7), 40)              // one fuzz string of 40 code points (rng from @llm/kit)
 */
import { rng } from '@llm/kit';

const PROSE = `The quick brown fox jumps over the lazy dog. It wasn't the first time; the dog didn't mind.
"Tokenizers," she said, "are surprisingly subtle." He replied: 'I'll believe it when I see it...'
In 1969, 600,000,000 people watched the Moon landing — roughly 1/5 of humanity (est.).
Mr. O'Neil's co-worker e-mailed him at 9:45am re: the Q3 report (v2.1-final-FINAL).
WE'RE CLOSED ON SUNDAYS!!! Don't you DARE call before 8 a.m. We'Ll see. They'D know. You'Ve been warned.`;

const TYPESCRIPT = `import { readFile } from 'node:fs/promises';

export async function countLines(path: string): Promise<number> {
  const text = await readFile(path, 'utf8');
  let n = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n; // trailing line without "\\n" is not counted
}

type Pair<T> = readonly [T, T];
const swap = <T,>([a, b]: Pair<T>): Pair<T> => [b, a];
console.log(swap([1, 2]), \`\${1 + 2}px\`, /[a-z]+\\d{2,}/gu.test('ab12'));
`;

const PYTHON = `def fib(n: int) -> list[int]:
    """Return the first n Fibonacci numbers."""
    out = [0, 1]
    while len(out) < n:
        out.append(out[-1] + out[-2])
    return out[:n]


if __name__ == "__main__":
\tprint(f"{fib(10)!r:>40}")  # tab-indented on purpose
    data = {"key": [1, 2.5, None, True], 'x': r"C:\\path\\to"}
`;

const JSON_TEXT = JSON.stringify(
  { name: 'tokenizer-bpe', version: '0.1.0', ids: [100257, 15339, 0, -1], nested: { ok: true, nothing: null, pi: 3.14159 }, text: 'line1\nline2\ttab "quoted" \u00e9' },
  null,
  2,
);

const SCRIPTS = [
  '中文分词是自然语言处理的基础任务之一。我们今天去北京，明天去上海！',
  '日本語のテキスト：東京は日本の首都です。カタカナとひらがなが混ざっています。',
  '한국어 텍스트도 포함합니다. 서울은 대한민국의 수도입니다.',
  'مرحبا بالعالم! هذه جملة عربية مع أرقام ١٢٣٤٥ وعلامات ترقيم، أليس كذلك؟',
  'नमस्ते दुनिया! यह हिन्दी का वाक्य है, जिसमें मात्राएँ और संयुक्ताक्षर हैं: क्षत्रिय, ज्ञान।',
  'Привет, мир! Съешь же ещё этих мягких французских булок, да выпей чаю.',
  'Ελληνικά: Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. ΤΕΛΟΣ.',
  'ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ ผู้ใหญ่หาผ้าใหม่ให้สะใภ้ใช้คล้องคอ',
  'Ünïcödé àccénts: café, naïve, Zürich, São Paulo, Øresund, Łódź, İstanbul, ǅemal, ǈubljana.',
  'Combining: e\u0301 a\u0308 n\u0303 Z\u0335\u0321a\u0336l\u0337g\u0334o\u0338 ﬁ ﬂ ﬀ — Ａｂｃ１２３ full-width.',
];

const EMOJI = [
  'Emoji: 😀😃😄 👍🏻👍🏼👍🏽👍🏾👍🏿 ❤️ ✨🔥💯',
  'ZWJ families: 👨‍👩‍👧‍👦 👩‍❤️‍💋‍👨 🧑🏽‍💻 🏳️‍🌈 🏴‍☠️ 🤷🏻‍♀️ 👁️‍🗨️',
  'Flags: 🇯🇵🇺🇸🇫🇷🇩🇪🇧🇷 🏴󠁧󠁢󠁳󠁣󠁴󠁿 and keycaps 1️⃣ #️⃣ *️⃣',
  'Astral letters/digits: 𝐀𝐁𝐂 𝒜𝒷𝒸 𝟎𝟏𝟐𝟑𝟒 𐐀𐐨 𓀀𓀁 𝄞',
];

const WHITESPACE = [
  'a    b\t\t\tc \t \t d\n\n\ne\r\nf\r\n\r\ng\rh',
  '    leading spaces and trailing spaces    ',
  '\n\n\n\n',
  '\t\t\t\t',
  ' \n \n \n ',
  'x \u00a0\u00a0 y\u2003\u2003z\u3000\u3000w\u2028v\u2029u\u0085t\u0085\u0085s',
  'bom\ufeff\ufeffmid \ufeff start \ufeff',
  'end with newline space \n ',
  'mixed  \r\n  \r\n\t\r\n   ',
  ' '.repeat(100) + 'x' + '\t'.repeat(50) + 'y' + '\n'.repeat(30) + 'z' + ' \r\n'.repeat(20),
];

function digitRuns(): string[] {
  const out: string[] = [];
  let digits = '';
  for (let len = 1; len <= 40; len++) {
    digits += String((len * 7) % 10);
    out.push(`n=${digits} `, `${digits}.${digits}`, `-${digits}e+${len}`, `abc${digits}def`, ` ${digits}`);
  }
  out.push('0000000000', '1,234,567.890', '3.14159265358979323846', '٠١٢٣٤٥٦٧٨٩ ۰۱۲۳ ०१२३ ²³¹ ½¾ Ⅷ ① ⑳');
  return out;
}

const PUNCTUATION = [
  '!!!???...;;;:::',
  '--->>><<<===***&&&|||',
  '(((((nested)))))[[[[x]]]]{{{{y}}}}',
  "''''\"\"\"\"````",
  '... !!! ?!?! .,.,., /// \\\\\\ @@@ ### $$$ %%% ^^^',
  '//\n/*\n*/\n#!/usr/bin/env node\n<!-- x -->',
  'a/b/c/d.e/f\n/g/\n/',
];

const CONTRACTIONS = [
  "don't DON'T Don'T dOn't i'm I'M i'M we'll WE'LL We'Ll we'LL you've YOU'VE you'Ve they're THEY'RE they'Re she'd SHE'D",
  "it's IT'S It'S rock'n'roll 'tis 'twas o'clock y'all ma'am 'S 'T 'RE 'VE 'M 'LL 'D",
  "it'ſ it'ſx THE'ſ 'ſſ'ſ HelloWorld's XMLHttpRequest's iPhone'S ABCdef'S",
  "quote'' '' 's's's 'll'll",
];

const SURROGATES = [
  'lone high \ud800 here',
  'lone low \udc00 here',
  'reversed \udc00\ud800 pair',
  '\ud83d',
  '\ude00',
  'ok 😀 then broken \ud83d and \ude00 end\ud800',
  '\ud800\ud800\udc00',
  "'\ud800 don't\udfff",
];

/** Long single pieces: they take the heap merge (bpe-merge.ts) instead of the array scan. */
function longPieces(): string[] {
  const r = rng(77);
  const b64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  return [
    'a'.repeat(2000),
    `x${' '.repeat(1500)}y`,
    Array.from({ length: 2000 }, () => b64[Math.floor(r() * 64)]).join(''),
    Array.from({ length: 600 }, () => String.fromCodePoint(0x4e00 + Math.floor(r() * 3000))).join(''),
    'ab'.repeat(700) + '🙂'.repeat(100),
  ];
}

/** Hand-written documents: every category above, plus a few combined ones. */
export function fixedDocuments(): string[] {
  const docs = [
    PROSE,
    TYPESCRIPT,
    PYTHON,
    JSON_TEXT,
    ...SCRIPTS,
    ...EMOJI,
    ...WHITESPACE,
    ...digitRuns(),
    ...PUNCTUATION,
    ...CONTRACTIONS,
    ...SURROGATES,
    ...longPieces(),
    '',
    'a',
    ' ',
    '\n',
  ];
  docs.push(docs.slice(0, 40).join('\n'), docs.join(' '));
  return docs;
}

/** Character pools the fuzz draws from; each entry is a string of code points or a range. */
const POOLS: ReadonlyArray<string | [number, number]> = [
  'abcdefghijklmnopqrstuvwxyz',
  'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  '0123456789',
  " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
  "'''''sStTmMdDlLvVeErRſ", // contraction material
  ' \t\n\r\u000b\u000c\u0085\u00a0\u1680\u2000\u2007\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\u200b\u180e',
  '   \n\n\r\n\t',
  [0x00c0, 0x024f], // Latin-1 supplement + extended A/B (incl. titlecase ǅ ǈ ǋ ǲ)
  [0x02b0, 0x02ff], // modifier letters (Lm) and symbols
  [0x0300, 0x036f], // combining marks (M)
  [0x0370, 0x03ff], // Greek
  [0x0400, 0x04ff], // Cyrillic
  [0x0590, 0x05ff], // Hebrew
  [0x0600, 0x06ff], // Arabic (incl. Arabic-Indic digits)
  [0x0900, 0x097f], // Devanagari (letters + combining vowel signs)
  [0x0e00, 0x0e7f], // Thai
  [0x1e00, 0x1eff], // Latin extended additional
  [0x1f00, 0x1fff], // Greek extended (titlecase letters)
  [0x2000, 0x206f], // general punctuation (spaces, ZWJ, dashes)
  [0x2070, 0x218f], // super/subscripts, letterlike symbols, number forms (Ⅷ)
  [0x2460, 0x24ff], // enclosed alphanumerics (①)
  [0x3040, 0x30ff], // kana
  [0x4e00, 0x4fff], // CJK ideographs
  [0xac00, 0xad00], // Hangul
  [0xff00, 0xffef], // full-width forms
  [0x1d400, 0x1d7ff], // math alphanumerics (astral letters and digits)
  [0x1f300, 0x1f6ff], // emoji
  [0x1f3fb, 0x1f3ff], // skin tones
  [0x1f1e6, 0x1f1ff], // regional indicators (flags)
  '\u200d\ufe0f\u20e3', // ZWJ, VS16, keycap
  [0xd800, 0xdfff], // lone surrogates
];

function drawFrom(r: () => number, pool: string | [number, number]): string {
  if (typeof pool === 'string') {
    const cps = Array.from(pool);
    return cps[Math.floor(r() * cps.length)]!;
  }
  const cp = pool[0] + Math.floor(r() * (pool[1] - pool[0] + 1));
  return cp >= 0xd800 && cp <= 0xdfff ? String.fromCharCode(cp) : String.fromCodePoint(cp);
}

/** One random string of `n` code points, drawing runs from 1–3 pools (so words form). */
export function randomText(r: () => number, n: number): string {
  const pools = Array.from({ length: 1 + Math.floor(r() * 3) }, () => POOLS[Math.floor(r() * POOLS.length)]!);
  let s = '';
  for (let k = 0; k < n; ) {
    const pool = pools[Math.floor(r() * pools.length)]!;
    const run = 1 + Math.floor(r() * 6);
    for (let j = 0; j < run && k < n; j++, k++) s += drawFrom(r, pool);
  }
  return s;
}

/** fixedDocuments() followed by `fuzzCount` seeded random strings of 1–60 code points. */
export function parityCorpus(seed = 20240607, fuzzCount = 3000): string[] {
  const r = rng(seed);
  const docs = fixedDocuments();
  for (let k = 0; k < fuzzCount; k++) docs.push(randomText(r, 1 + Math.floor(r() * 60)));
  return docs;
}
