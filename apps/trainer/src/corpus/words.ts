/**
 * Word lists for the corpus generator, written for this project (no third-party text).
 *
 *   WORDS.color          // → ['red', 'blue', ...]: what a {color} slot in a template picks from
 *   GIRL_NAMES[0]        // → 'Mia'
 *   ACTIVITIES[0]        // → ['play outside', 'played outside']: [present, past] pairs
 *
 * Lists avoid words that break the 'a' → 'an' rule (no 'unicorn', 'hour').
 */

/** A verb phrase in two forms: [infinitive, simple past]. May use {X.his}-style slots. */
export type Phrase = readonly [string, string];

/** First names of girls (pronoun 'she'). */
export const GIRL_NAMES = [
  'Mia', 'Lily', 'Sara', 'Ella', 'Zoe', 'Anna', 'Lucy', 'Amy', 'Emma', 'Rosa', 'Nina', 'Ruby',
  'Kate', 'Ivy', 'Maya', 'Jane', 'Hana', 'Luna', 'Grace', 'Alice', 'Nora', 'Leah', 'Sofia', 'Eva',
] as const;

/** First names of boys (pronoun 'he'). */
export const BOY_NAMES = [
  'Tom', 'Ben', 'Sam', 'Leo', 'Max', 'Jack', 'Tim', 'Dan', 'Noah', 'Finn', 'Eli', 'Jake',
  'Luke', 'Omar', 'Ravi', 'Kai', 'Hugo', 'Oscar', 'Owen', 'Adam', 'Theo', 'Milo', 'Jon', 'Ali',
] as const;

/** Names for animal characters (either pronoun). */
export const PET_NAMES = [
  'Pip', 'Coco', 'Bobo', 'Spot', 'Fluffy', 'Buddy', 'Daisy', 'Rex', 'Bella', 'Nutmeg', 'Pepper',
  'Sunny', 'Ziggy', 'Lulu', 'Toby', 'Rosie', 'Biscuit', 'Peanut', 'Ginger', 'Patch',
] as const;

/** Animals that can be the hero of a story ("a little fox named Pip"). */
export const HERO_ANIMALS = [
  'cat', 'dog', 'bunny', 'bird', 'duck', 'frog', 'fox', 'owl', 'bear', 'mouse', 'puppy',
  'kitten', 'squirrel', 'turtle', 'lamb', 'pig', 'hedgehog', 'monkey',
] as const;

/** Places as [noun, how to say being there]: ['beach', 'at the beach']. */
export const PLACES: ReadonlyArray<readonly [string, string]> = [
  ['park', 'in the park'], ['garden', 'in the garden'], ['beach', 'at the beach'],
  ['forest', 'in the forest'], ['farm', 'on the farm'], ['lake', 'by the lake'],
  ['river', 'by the river'], ['hill', 'on the hill'], ['zoo', 'at the zoo'],
  ['playground', 'at the playground'], ['pond', 'by the pond'], ['meadow', 'in the meadow'],
  ['field', 'in the field'], ['woods', 'in the woods'], ['market', 'at the market'],
  ['library', 'at the library'], ['bakery', 'at the bakery'],
];

/** Relatives as [noun, pronoun 'he' | 'she']. */
export const RELATIVES: ReadonlyArray<readonly [string, 'he' | 'she']> = [
  ['mom', 'she'], ['dad', 'he'], ['grandma', 'she'], ['grandpa', 'he'], ['aunt', 'she'],
  ['uncle', 'he'],
];

/** Things a character likes to do, as [infinitive, past]. */
export const ACTIVITIES: readonly Phrase[] = [
  ['play outside', 'played outside'],
  ['run in the grass', 'ran in the grass'],
  ['draw pictures', 'drew pictures'],
  ['sing songs', 'sang songs'],
  ['read books', 'read books'],
  ['climb trees', 'climbed trees'],
  ['jump in puddles', 'jumped in puddles'],
  ['pick flowers', 'picked flowers'],
  ['look at the clouds', 'looked at the clouds'],
  ['dance in the kitchen', 'danced in the kitchen'],
  ['ride {A.his} bike', 'rode {A.his} bike'],
  ['build towers with blocks', 'built towers with blocks'],
  ['paint with {color} paint', 'painted with {color} paint'],
  ['help {A.his} {P}', 'helped {A.his} {P}'],
  ['play with {A.his} {toy}', 'played with {A.his} {toy}'],
  ['watch the birds', 'watched the birds'],
  ['count the stars', 'counted the stars'],
  ['swim in the lake', 'swam in the lake'],
  ['make mud pies', 'made mud pies'],
  ['tell funny jokes', 'told funny jokes'],
];

/** Games two friends play, as [infinitive, past]. */
export const GAMES: readonly Phrase[] = [
  ['play tag', 'played tag'],
  ['play catch', 'played catch'],
  ['play hide and seek', 'played hide and seek'],
  ['build a sand castle', 'built a sand castle'],
  ['swing on the swings', 'swung on the swings'],
  ['kick the ball', 'kicked the ball'],
  ['race to the big tree', 'raced to the big tree'],
  ['jump rope', 'jumped rope'],
  ['play with blocks', 'played with blocks'],
  ['blow bubbles', 'blew bubbles'],
  ['fly a kite', 'flew a kite'],
  ['play house', 'played house'],
];

/** Indoor things to do on a rainy day, as [infinitive, past]. */
export const INDOOR: readonly Phrase[] = [
  ['build a fort with blankets', 'built a fort with blankets'],
  ['draw funny pictures', 'drew funny pictures'],
  ['play a board game', 'played a board game'],
  ['make paper boats', 'made paper boats'],
  ['read a story about a {animal}', 'read a story about a {animal}'],
  ['bake {treat}', 'baked {treat}'],
  ['do a puzzle', 'did a puzzle'],
  ['put on a puppet show', 'put on a puppet show'],
];

/** Chores, as [infinitive (said to the child), past (about the child)]. */
export const CHORES: readonly Phrase[] = [
  ['clean your room', 'cleaned {A.his} room'],
  ['water the flowers', 'watered the flowers'],
  ['put away your toys', 'put away {A.his} toys'],
  ['help me wash the dishes', 'helped wash the dishes'],
  ['feed the cat', 'fed the cat'],
  ['fold the clothes', 'folded the clothes'],
  ['sweep the floor', 'swept the floor'],
  ['pick up the leaves', 'picked up the leaves'],
];

/** Feelings with reasons and a fitting reply, for "How are you?" in dialogues. */
export const MOODS: ReadonlyArray<{ feel: string; reasons: readonly string[]; replies: readonly string[] }> = [
  {
    feel: 'happy',
    reasons: [
      'my {relative} is coming to visit', 'it is my birthday', 'I got a new {toy}',
      'we are going to the {place} today', 'I found a {color} shell',
    ],
    replies: ['That is great!', 'Yay! I am happy for you.', 'That sounds fun!'],
  },
  {
    feel: 'sad',
    reasons: ['I lost my {toy}', 'my {pet} is sick', 'it is raining again', 'my friend moved away'],
    replies: ['Oh no! I am sorry.', 'Do not be sad. I am here.', 'Here, have a big hug.'],
  },
  {
    feel: 'tired',
    reasons: ['I played all morning', 'I did not sleep well', 'we walked up a big hill'],
    replies: ['Maybe you need a nap.', 'Let us sit down and rest.'],
  },
  {
    feel: 'excited',
    reasons: ['we are going to the {place} tomorrow', 'I learned to ride my bike', 'my {pet} had babies'],
    replies: ['Wow! Tell me more.', 'That is so cool!'],
  },
];

/** A category for "What is your favorite ...?": how to say an item of it. */
export const FAVORITES: ReadonlyArray<{ topic: string; items: readonly string[]; say: string }> = [
  { topic: 'color', items: ['red', 'blue', 'green', 'yellow', 'pink', 'purple', 'orange'], say: '{item}' },
  { topic: 'animal', items: ['cat', 'dog', 'horse', 'owl', 'fox', 'duck', 'bear', 'frog', 'lion'], say: 'the {item}' },
  { topic: 'food', items: ['pancakes', 'soup', 'pizza', 'rice', 'apples', 'noodles', 'carrots', 'cake'], say: '{item}' },
  { topic: 'season', items: ['spring', 'summer', 'fall', 'winter'], say: '{item}' },
  { topic: 'toy', items: ['ball', 'kite', 'doll', 'teddy bear', 'toy train', 'robot', 'drum'], say: 'my {item}' },
  { topic: 'game', items: ['tag', 'hide and seek', 'catch', 'jump rope'], say: '{item}' },
];

/** Weather reports with a fitting plan and a thing to bring, for dialogues. */
export const WEATHER: ReadonlyArray<{ report: string; plans: readonly string[]; bring: string }> = [
  { report: 'It is snowing', plans: ["Let's build a snowman!", "Let's make snow angels!"], bring: 'my warm coat' },
  { report: 'It is raining', plans: ["Let's jump in the puddles!", "Let's watch the rain from the window."], bring: 'my boots' },
  { report: 'The sun is out', plans: ["Let's go to the {place}!", "Let's have a picnic!"], bring: 'my hat' },
  { report: 'It is so windy', plans: ["Let's fly our kites!", "Let's watch the leaves fly!"], bring: 'my kite' },
];

/**
 * Lists a template can pick from with a {name} slot (no fixed choice in its context).
 * Every value here is a plain phrase (slots inside are expanded too).
 */
export const WORDS: Readonly<Record<string, readonly string[]>> = {
  color: ['red', 'blue', 'green', 'yellow', 'pink', 'purple', 'orange', 'brown', 'white', 'gold', 'silver', 'black'],
  toy: [
    'ball', 'kite', 'doll', 'toy car', 'teddy bear', 'balloon', 'toy boat', 'robot', 'toy train',
    'drum', 'bucket', 'spinning top', 'puppet', 'toy plane', 'rubber duck', 'whistle', 'yo-yo',
  ],
  animal: [
    'cat', 'dog', 'bird', 'rabbit', 'duck', 'frog', 'fox', 'owl', 'mouse', 'squirrel', 'turtle',
    'kitten', 'puppy', 'hedgehog', 'lamb', 'goat', 'deer', 'chick',
  ],
  pet: ['cat', 'dog', 'fish', 'bunny', 'bird', 'hamster', 'turtle'],
  place: PLACES.map(([noun]) => noun),
  spot: ['bench', 'tree', 'slide', 'bush', 'rock', 'fence', 'swing', 'log', 'bridge', 'wall', 'gate'],
  adj: [
    'little', 'small', 'kind', 'happy', 'curious', 'brave', 'shy', 'funny', 'friendly', 'clever',
    'quiet', 'cheerful', 'young', 'gentle', 'playful', 'busy',
  ],
  relative: ['mom', 'dad', 'grandma', 'grandpa', 'aunt', 'uncle', 'sister', 'brother'],
  time: [
    'one day', 'one morning', 'one sunny day', 'one afternoon', 'on Saturday', 'one summer day',
    'one spring morning', 'one evening', 'after lunch', 'the next day',
  ],
  treat: ['cookies', 'muffins', 'cupcakes', 'pancakes', 'little cakes', 'honey buns', 'apple tarts'],
  food: ['cookies', 'grapes', 'cheese', 'bread', 'soup', 'cherries', 'popcorn', 'carrots', 'juice', 'cake', 'pie', 'milk'],
  snack: ['sandwiches', 'apples', 'crackers', 'cheese', 'grapes', 'cookies', 'bread and jam'],
  meal: ['soup', 'rice and beans', 'noodles', 'fish and peas', 'pizza', 'pancakes', 'eggs and toast'],
  fruit: ['apples', 'lemons', 'cherries', 'plums', 'pears', 'oranges'],
  home: ['woods', 'sea', 'river', 'hill', 'lake', 'farm', 'park'],
  trait: ['kind to everyone', 'full of questions', 'happy to help', 'a little shy', 'very brave', 'very curious'],
  sound: ['a small sound', 'a soft cry', 'a little squeak', 'a funny noise'],
  good: ['good', 'happy', 'wonderful', 'fun', 'lovely'],
};
