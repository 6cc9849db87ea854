/**
 * Short dialogues: two speakers taking turns, built from question/answer exchanges.
 *
 *   generateDialogue(rng(2))
 *   // → 'Dan: What are you drawing?\nKai: I am drawing a blue puppy by the sea.\nDan: It looks great! ...'
 *
 * In an exchange, line 0 is said by X to Y, line 1 by Y to X, and so on; {X} and {Y} are the
 * names each speaker calls the other ('Mia', or 'Mom' for a parent). Lines are handed out to the
 * speakers in turn, so the speakers always alternate.
 */
import { makeChild, pairContext } from './cast.js';
import type { Rng } from './rng.js';
import { type Context, fill } from './template.js';
import { CHORES, FAVORITES, GAMES, MOODS, PET_NAMES, WEATHER, WORDS } from './words.js';

interface Speaker {
  /** How the speaker is labelled and called: 'Mia', or 'Mom'. */
  name: string;
  parent: boolean;
}

/** Line templates for one exchange, said alternately by X and Y. */
type Exchange = (r: Rng) => string[];

const KIDS: readonly Exchange[] = [
  (r) => {
    const mood = r.pick(MOODS);
    return ['How are you today, {Y}?', `I am ${mood.feel}, because ${r.pick(mood.reasons)}.`, r.pick(mood.replies)];
  },
  (r) =>
    r.chance(0.7)
      ? ['[Hey, {Y}, do|Do] you want to {game} [with me|]?', 'Yes! [That sounds fun.|I love to {game}.|Let\'s go to the {place}.|Let\'s ask {relative} first.]',
        ...(r.chance(0.5) ? ['Can I bring my {toy}?', '[Sure|Yes], bring it!'] : [])]
      : ['Do you want to {game}[, {Y}|]?', 'Not now. I am [too tired|eating my lunch|helping my {relative}].', 'Okay. Maybe we can play [later|tomorrow|after lunch].'],
  (r) => {
    const fav = r.pick(FAVORITES);
    const [a, b] = [r.pick(fav.items), r.pick(fav.items)];
    const say = (item: string) => fav.say.replace('{item}', item);
    const reply = a === b ? `I like ${say(a)} too!` : `I like ${say(b)} [best|the most].`;
    return [`What is your favorite ${fav.topic}?`, `My favorite ${fav.topic} is ${say(a)}. What about you?`, reply];
  },
  (r) =>
    r.chance(0.5)
      ? ['Have you seen my {toy}?', 'Yes! It is [under the table|by the door|next to the {spot}|in your bag].', 'Thank you[, {Y}|]! I looked [everywhere|all morning].']
      : ['Have you seen my {toy}?', 'No, I have not. Where did you have it last?', 'I had it [at the {place}|in my room|in the garden|by the {spot}].', '[Let\'s go and look there together.|I will help you look.]'],
  () => [
    'What did you do [yesterday|last weekend|on Sunday]?',
    'I went to the {place} with my {relative}.',
    'What did you [do|see] there?',
    'We {gamed} and [saw a {animal}|had a picnic|ate {snack}].',
    'That sounds [fun|great]! Can I come next time?',
    '[Yes, you can!|Sure, I will ask my {relative}.]',
  ],
  (r) =>
    r.chance(0.6)
      ? ['Do you have a pet?', 'Yes, I have a {pet} named {petName}.', 'What does {petName} like to do?',
        '{petHe} likes to [sleep in the sun|play all day|sit on my bed|hide under the table].']
      : ['Do you have a pet?', 'No, but I want a {pet}.', 'You can come and play with my {pet} [sometime|after school].'],
  () => [
    'What did you [do|learn] at school today?',
    'We learned about [the moon and the stars|colors|numbers|plants|the sea|bugs].',
    'What was the best part[ of the day|]?',
    '[We drew pictures|We sang a song|Our teacher read us a story|We played outside|We {gamed}]. It was [fun|the best]!',
  ],
  () => [
    '[Where are you going|What are you doing today][, {Y}|]?',
    'I am going to the {place} [with my {relative}|to {game}|to see the {animal}].',
    'Can I come [with you|too]?',
    '[Yes! Let\'s go together.|Sure! Ask your {relative} first.|Yes, you can come.]',
  ],
  () => [
    'Look at that {animal}[, {Y}|]!',
    'Wow, it is so [big|small|cute|fast]!',
    'I think it is [hungry|looking for its mom|going home|happy to see us].',
  ],
  () => [
    'What are you drawing?',
    'I am drawing a {color} {animal} [in a tree|by the sea|with a hat].',
    'It looks [great|so real|very nice]! Can I draw too?',
    'Sure! [Here is|You can use] my {color2} crayon.',
  ],
  () => ['Do you want to trade snacks? I have {snack}.', 'Okay! I have {snack2}.', '[Yum|Great], thank you!'],
  () => [
    'Why are you sad[, {Y}|]?',
    '[My {toy} broke|I fell and hurt my knee|My best friend is not here today].',
    '[I am sorry. Do you want a hug?|Do not cry. We can play together.|Oh no. Let me help you.]',
    'Thank you[, {X}|]. I feel better now.',
  ],
  () => ['How old are you?', 'I am {age}. How old are you?', 'I am {age2}[, and next month I will be older|].'],
  (r) =>
    r.chance(0.6)
      ? ['Can I play with your {toy}?', 'Yes, but please be careful with it.', 'I will. Thank you!']
      : ['Can I play with your {toy}?', 'Not now, I am still playing with it. You can have it next.', 'Okay, I will wait.'],
  () => [
    'Can you count to ten?',
    'Yes! One, two, three, four, five, six, seven, eight, nine, ten!',
    'Wow, you are good at counting!',
  ],
  () => [
    'Guess what I have in my bag!',
    'Is it a {toy2}?',
    'No, guess again. It is {color}.',
    'Is it a {color} {toy}?',
    'Yes! You got it!',
  ],
  (r) => {
    const [animal, sound] = r.pick(SOUNDS);
    return [`What sound does a ${animal} make?`, `A ${animal} says ${sound}!`, '[That is right|Yes|Good job]! [Now you ask me one.|You are so smart.]'];
  },
];

const AGES = ['four', 'five', 'six', 'seven', 'eight'];

const SOUNDS: ReadonlyArray<readonly [string, string]> = [
  ['cow', 'moo'], ['dog', 'woof'], ['cat', 'meow'], ['duck', 'quack'], ['sheep', 'baa'],
  ['owl', 'hoo'], ['pig', 'oink'], ['frog', 'ribbit'], ['lion', 'roar'], ['bee', 'buzz'],
];

/** Exchanges that fit any two speakers. */
const ANYONE: readonly Exchange[] = [
  (r) => {
    const w = r.pick(WEATHER);
    return [`Look outside! ${w.report}!`, r.pick(w.plans), `[Okay|Good idea]! I will get ${w.bring}.`];
  },
  (r) =>
    r.chance(0.7)
      ? ['Do you want some {food}[, {Y}|]?', 'Yes, please! I love {food}.', '[Here you go.|Here, take some.]', 'Thank you, {X}!']
      : ['Do you want some {food}?', 'No, thank you. I [am not hungry|just ate].', 'Okay. Tell me if you get hungry[ later|].'],
  () => [
    'Can you help me [carry this box|find my shoe|reach the top shelf|open this jar]?',
    '[Of course|Sure]! [Here you go.|Let me help you.|That is easy.]',
    'Thank you, {Y}!',
    'You are welcome, {X}.',
  ],
];

/** A child (X) asks a parent (Y). */
const TO_PARENT: readonly Exchange[] = [
  (r) =>
    r.chance(0.5)
      ? ['Can I have some {treat}, please?', 'Yes, but just a few.', 'Thank you, {Y}!']
      : ['Can I have some {treat}, please?', 'Not now. It is almost time for dinner.', 'Okay, {Y}.'],
  (r) =>
    r.chance(0.5)
      ? ['Can we go to the {place} today?', 'Yes, we can go after lunch.', 'Yay! Thank you, {Y}!']
      : ['Can we go to the {place} today?', 'Not today. Maybe tomorrow.', 'Okay, tomorrow then.'],
  () => ['Can you read me a story[, {Y}|]?', 'Yes. Which book do you want?', 'The one about the {color} {animal}!'],
  () => [
    'Look, {Y}! I made a [card|tower|sand castle|picture] for you!',
    'Wow, it is beautiful! Did you make it all by yourself?',
    'Yes, I did!',
  ],
  () => ['I am hungry[, {Y}|].', 'Do you want [an apple|a sandwich|some {food}]?', 'Yes, please!'],
  () => ['What are we having for dinner?', 'We are having {meal}.', 'Yum! I love {meal}. Can I help you cook?', 'Yes, you can wash the [carrots|peas|tomatoes].'],
  (r) => {
    const [question, answer] = r.pick(WHY);
    return [question, answer, '[Wow! I did not know that.|Oh, I see.|That is so cool!]'];
  },
];

const WHY: ReadonlyArray<readonly [string, string]> = [
  ['Why do birds sing?', 'They sing to talk to other birds.'],
  ['Where does the sun go at night?', 'It shines on the other side of the world.'],
  ['Why do we need to sleep?', 'Sleep helps your body grow big and strong.'],
  ['Why is the grass wet in the morning?', 'That is dew. The cold night makes little drops of water.'],
  ['Why do leaves fall in the fall?', 'The trees rest in winter, so they let their leaves go.'],
  ['Where does rain come from?', 'It comes from the clouds. They are full of tiny drops of water.'],
  ['Why does the moon change shape?', 'The sun lights up different parts of it as it goes around us.'],
];

/** A parent (X) speaks to a child (Y). */
const FROM_PARENT: readonly Exchange[] = [
  () => [
    'Where are your shoes, {Y}?',
    'I think they are [under my bed|by the door|in the garden].',
    'Please go and get them. We are going to the {place}.',
    'Yay! I will be quick.',
  ],
  () => ['Did you brush your teeth, {Y}?', 'Not yet.', 'Please do it now.', 'Okay, {X}.'],
  () => ['Put on your coat, {Y}. It is cold outside.', 'Can I wear my {color} hat too?', 'Yes, that is a good idea.'],
  () => ['It is time for bed, {Y}.', 'Can I have one more story, please?', 'Okay, just one more.', 'Thank you, {X}. I love you.', 'I love you too. Good night.'],
  () => ['Dinner is ready! Please wash your hands.', 'Okay! What are we having?', 'We are having {meal}.', 'Yum! I love {meal}.'],
  () => ['How was school today, {Y}?', 'It was [great|fun|good]! We {gamed} outside.', 'That sounds like fun.'],
  () => ['{Y}, can you please {chore}?', 'Okay, {X}. Can I play after that?', 'Yes, when you are done you can play.'],
  () => ['You helped me a lot today, {Y}.', 'I like to help you, {X}!', 'Thank you. Let\'s have some {treat}.'],
];

const GREETINGS: readonly Exchange[] = [
  () => ['[Hi|Hello|Hey], {Y}!', '[Hi|Hello], {X}!'],
  () => ['Good morning, {Y}!', 'Good morning, {X}! What are you doing?', 'I am [drawing a {animal}|playing with my {toy2}|looking at the clouds|waiting for my {relative}].'],
];

/** Greetings where one speaker is a parent (no "What are you doing?": the answers are a child's). */
const PARENT_GREETINGS: readonly Exchange[] = [
  () => ['Good morning, {Y}!', 'Good morning, {X}!'],
  () => ['[Hi|Hello], {Y}!', '[Hi|Hello], {X}!'],
];

const CLOSINGS: readonly Exchange[] = [
  () => ['I have to go home now[, {Y}|].', 'Okay. Bye, {X}! See you [tomorrow|at school|soon].'],
  () => ['It is getting [late|dark].', 'Yes. [Goodbye|Bye], {X}!'],
];

/** A dialogue as 'Name: line' lines joined by newlines: generateDialogue(rng(2)) → 'Dan: What are you drawing?\nKai: ...'. */
export function generateDialogue(r: Rng): string {
  const speakers = chooseSpeakers(r);
  const ctx = dialogueContext(r);
  const lines: string[] = [];
  const say = (exchange: Exchange) => {
    const x = speakers[lines.length % 2] as Speaker;
    const y = speakers[(lines.length + 1) % 2] as Speaker;
    const scene = { ...ctx, X: x.name, Y: y.name };
    exchange(r).forEach((t, i) => lines.push(`${(i % 2 === 0 ? x : y).name}: ${fill(t, scene, r)}`));
  };
  const hasParent = speakers.some((s) => s.parent);
  if (r.chance(0.6)) say(r.pick(hasParent ? PARENT_GREETINGS : GREETINGS));
  for (let n = 1 + r.int(3); n > 0; n--) say(r.pick(exchangesFor(speakers[lines.length % 2] as Speaker, hasParent)));
  if (!hasParent && r.chance(0.5)) say(r.pick(CLOSINGS));
  return lines.join('\n');
}

/** Exchanges the next speaker may start: a child with a child, a child to a parent, or the parent. */
function exchangesFor(first: Speaker, hasParent: boolean): readonly Exchange[] {
  if (!hasParent) return [...KIDS, ...ANYONE];
  return first.parent ? [...FROM_PARENT, ...ANYONE] : [...TO_PARENT, ...ANYONE];
}

/** Two children (70%) or a child and a parent, in random order. */
function chooseSpeakers(r: Rng): [Speaker, Speaker] {
  const a = makeChild(r);
  const b = r.chance(0.7)
    ? { name: makeChild(r, [a.name]).name, parent: false }
    : { name: r.pick(['Mom', 'Dad', 'Grandma', 'Grandpa']), parent: true };
  const kid = { name: a.name, parent: false };
  return r.chance(0.5) ? [kid, b] : [b, kid];
}

/** The fixed choices of one dialogue: one toy, one place, one pet... */
function dialogueContext(r: Rng): Context {
  const fixed: Record<string, string> = {};
  for (const key of ['toy', 'color', 'place', 'pet', 'food', 'treat', 'meal', 'relative', 'animal', 'spot', 'snack']) {
    fixed[key] = r.pick(WORDS[key] ?? []);
  }
  const other = (key: string) => r.pick((WORDS[key] ?? []).filter((w) => w !== fixed[key]));
  const [age, age2] = [r.pick(AGES), r.pick(AGES)];
  return {
    ...fixed,
    toy2: other('toy'),
    color2: other('color'),
    snack2: other('snack'),
    age,
    age2,
    petName: r.pick(PET_NAMES),
    petHe: r.pick(['He', 'She']),
    ...pairContext(r, ['game', 'gamed'], GAMES),
    ...pairContext(r, ['chore', 'chored'], CHORES),
  };
}
