// Deterministic ≥ 5 MB mixed-text corpus for the tokenizer benchmark: Tiny Shakespeare (when
// ../shared/data has it) plus generated prose, source code (TS, Python, JSON), CJK, Arabic,
// Hindi, Cyrillic, emoji (ZWJ sequences, skin tones, flags) and numbers, interleaved paragraph
// by paragraph so that 4 KB chunks are mixed too.
//
//   const { text, parts, shakespeare } = buildCorpus({ targetBytes: 5_500_000 });
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rng, sharedDataDir, sharedDataPath } from '@llm/kit';

const FALLBACK_WORDS = `the of and to in is that it for was on are as with his they at be this from have or by one had
not but what all were when we there can an your which their said if do will each about how up out them then she many
some so these would other into has more her two like him see time could no make than first been its who now people my
made over did down only way find use may water long little very after words called just where most know get through
back much before go good new write our used me man too any day same right look think also around another came come work
three word must because does part even place well such here take why things help put years different away again off
went old number great tell men say small every found still between name should home big give air line set own under read
last never us left end along while might next sound below saw something thought both few those always looked show large
often together asked house world going want school important until form food keep children feet land side without boy
once animals life enough took sometimes four head above kind began almost live page got earth need far hand high year
mother light parts country father let night following picture being study second eyes soon times story boys since white
days ever paper hard near sentence better best across during today others however sure means knew its try told young
miles sun ways thing whole hear example heard several change answer room sea against top turned learn point city play
toward five using himself usually`.split(/\s+/);

function pick(r, list) {
  return list[Math.floor(r() * list.length)];
}

function wordsFrom(text) {
  const counts = new Map();
  for (const w of text.match(/[A-Za-z']+/g) ?? []) counts.set(w, (counts.get(w) ?? 0) + 1);
  return [...counts].filter(([, n]) => n > 1).map(([w]) => w);
}

function prose(r, words, sentences) {
  const out = [];
  for (let s = 0; s < sentences; s++) {
    const n = 5 + Math.floor(r() * 18);
    const ws = Array.from({ length: n }, () => pick(r, words).toLowerCase());
    ws[0] = ws[0][0].toUpperCase() + ws[0].slice(1);
    if (r() < 0.2) ws.splice(2, 0, `${Math.floor(r() * 10000)}`);
    if (r() < 0.15) ws.splice(1, 0, pick(r, ["don't", "It's", "we'll", "THEY'RE", "You'Ve", "I'm", "she'd"]));
    out.push(ws.join(' ') + pick(r, ['.', '.', '.', '?', '!', ';', ' —', '...']));
  }
  return out.join(' ');
}

function ident(r, words) {
  const a = pick(r, words).toLowerCase();
  const b = pick(r, words).toLowerCase();
  return r() < 0.5 ? `${a}${b[0].toUpperCase()}${b.slice(1)}` : `${a}_${b}`;
}

function typescript(r, words) {
  const fn = ident(r, words);
  const arg = ident(r, words);
  const field = ident(r, words);
  return `export function ${fn}(${arg}: number[], opts: { ${field}?: string } = {}): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i < ${arg}.length; i += ${1 + Math.floor(r() * 8)}) {
    if (${arg}[i]! > ${Math.floor(r() * 1000)} && opts.${field} !== undefined) {
      out.set(\`\${opts.${field}}-\${i}\`, ${arg}[i]! * ${(r() * 10).toFixed(3)});
    } else if (i % 2 === 0) {
\t\tout.delete('${pick(r, words)}'); // ${prose(r, words, 1)}
    }
  }
  return out;
}
`;
}

function python(r, words) {
  const cls = ident(r, words).replace(/^./, (c) => c.toUpperCase()).replace(/_/g, '');
  const m = ident(r, words);
  return `class ${cls}:
    """${prose(r, words, 2)}"""

    def __init__(self, ${m}: int = ${Math.floor(r() * 100)}) -> None:
        self.${m} = ${m}
        self.items: list[str] = []

    def ${ident(r, words)}(self, value):
        if value is None or value < ${Math.floor(r() * 50)}:
            raise ValueError(f"bad value: {value!r}")
        return [x ** 2 for x in range(value) if x % ${2 + Math.floor(r() * 5)} == 0]

`;
}

function json(r, words) {
  const obj = {};
  for (let k = 0; k < 6; k++) {
    obj[ident(r, words)] =
      k % 3 === 0 ? Math.floor(r() * 1e6) : k % 3 === 1 ? prose(r, words, 1) : [r() < 0.5, null, r().toFixed(6)];
  }
  return JSON.stringify(obj, null, 2) + '\n';
}

const CJK = '的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坏兴切掉阿';
const KANA = 'あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンー';
const HANGUL = '가나다라마바사아자차카타파하한국어대한민국서울사람시간생각말문제세상';
const ARABIC = ['مرحبا', 'بالعالم', 'كيف', 'حالك', 'اليوم', 'الكتاب', 'على', 'الطاولة', 'شكرا', 'جزيلا', 'مدرسة', 'اللغة', 'العربية'];
const HINDI = ['नमस्ते', 'दुनिया', 'आप', 'कैसे', 'हैं', 'भारत', 'एक', 'बड़ा', 'देश', 'है', 'हिन्दी', 'भाषा', 'किताब', 'पानी'];
const RUSSIAN = ['Привет', 'мир', 'как', 'дела', 'сегодня', 'хорошо', 'книга', 'на', 'столе', 'спасибо', 'большое', 'язык'];
const EMOJI = ['😀', '🙂', '🚀', '🎉', '❤️', '👍🏽', '👩‍💻', '👨‍👩‍👧‍👦', '🏳️‍🌈', '🇯🇵', '🇫🇷', '🇺🇸', '🤷🏻‍♀️', '🧑🏿‍🔬', '✨', '🔥', '👋🏼'];

function cjk(r) {
  let s = '';
  const n = 40 + Math.floor(r() * 120);
  for (let k = 0; k < n; k++) {
    const x = r();
    s += x < 0.7 ? pick(r, CJK) : x < 0.85 ? pick(r, KANA) : x < 0.9 ? pick(r, HANGUL) : pick(r, ['，', '。', '、', '「', '」', '！', '？', ' ']);
  }
  return s + '。';
}

function multilingual(r) {
  const lists = [ARABIC, HINDI, RUSSIAN];
  const list = pick(r, lists);
  const n = 8 + Math.floor(r() * 30);
  return Array.from({ length: n }, () => pick(r, list)).join(' ') + pick(r, ['.', '؟', '।', '!']);
}

function emojiAndNumbers(r, words) {
  const out = [];
  for (let k = 0; k < 20; k++) {
    const x = r();
    if (x < 0.35) out.push(pick(r, EMOJI).repeat(1 + Math.floor(r() * 3)));
    else if (x < 0.6) out.push(String(Math.floor(r() * 10 ** (1 + Math.floor(r() * 12)))));
    else if (x < 0.7) out.push(`${(r() * 1000).toFixed(2)}%`);
    else if (x < 0.8) out.push(`2024-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}`);
    else out.push(pick(r, words));
  }
  return out.join(pick(r, [' ', ' ', ', ', '  ', '\t'])) + '\n';
}

/** Builds the corpus: `targetBytes` of UTF-8 at least. */
export function buildCorpus({ targetBytes = 5_500_000, seed = 1234 } = {}) {
  const r = rng(seed); // seeded, so every run benchmarks the same text
  const path = sharedDataPath('tinyshakespeare.txt');
  const shakespeare = path !== null ? readFileSync(path, 'utf8') : undefined;
  const words = shakespeare ? wordsFrom(shakespeare) : FALLBACK_WORDS;
  const sources = shakespeare ? shakespeare.split(/\n\n+/) : [];
  const gens = [
    ['prose', 3, () => prose(r, words, 3 + Math.floor(r() * 8)) + '\n\n'],
    ['typescript', 2, () => typescript(r, words)],
    ['python', 2, () => python(r, words)],
    ['json', 1, () => json(r, words)],
    ['cjk', 2, () => cjk(r) + '\n'],
    ['multilingual', 1, () => multilingual(r) + '\n'],
    ['emoji+numbers', 1, () => emojiAndNumbers(r, words)],
  ];
  const totalWeight = gens.reduce((a, g) => a + g[1], 0);
  const parts = Object.fromEntries([['shakespeare', 0], ...gens.map((g) => [g[0], 0])]);
  const pieces = [];
  let bytes = 0;
  let si = 0;
  while (bytes < targetBytes) {
    let piece;
    let name;
    if (si < sources.length && r() < 0.5) {
      piece = sources[si++] + '\n\n';
      name = 'shakespeare';
    } else {
      let x = r() * totalWeight;
      const g = gens.find((g) => (x -= g[1]) < 0) ?? gens[0];
      name = g[0];
      piece = g[2]();
    }
    const n = Buffer.byteLength(piece);
    parts[name] += n;
    bytes += n;
    pieces.push(piece);
  }
  return { text: pieces.join(''), parts, shakespeare: shakespeare !== undefined, shakespearePath: path ?? join(sharedDataDir(), 'tinyshakespeare.txt') };
}
