/**
 * Story plots: each returns the middle of a story as sentence templates (one sentence each),
 * to be filled with the story's context (see story.ts for the slots: A, B, P, toy, place...).
 *
 *   PLOTS.find((p) => p.name === 'garden')!.events(rng(1))
 *   // → ['{^time}, {A.his} {P} gave {A} a [tiny|small] seed.', '{A} put the seed in a pot ...', ...]
 *
 * A plot gives 2 to 7 events, so that with an opening and an ending a story has 4 to 10 sentences.
 */
import type { Rng } from './rng.js';

export interface Plot {
  name: string;
  /** Sentence templates for the middle of the story. */
  events(r: Rng): string[];
  /** Closing sentences that fit this plot ("{A} learned that ..."). */
  morals: readonly string[];
  /** true if the plot introduces B itself (so the opening must not). */
  meetsB?: boolean;
}

/** [s] with probability p, else []: a sentence that a story may leave out. */
function maybe(r: Rng, p: number, sentence: string): string[] {
  return r.chance(p) ? [sentence] : [];
}

const lost: Plot = {
  name: 'lost',
  events: (r) => [
    r.pick(['{A} had a {color} {toy}, and {A.he} [played with it every day|took it everywhere|loved it very much].', '{A.His} favorite toy was a {color} {toy}.', '{A.His} {P} gave {A.him} a {color} {toy} for {A.his} birthday.']),
    r.pick(['{^time}, {A} took the {toy} to the {place}.', '{^time}, {A} went to the {place} to play with {A.his} {toy}.']),
    r.pick(['When it was time to go home, {A.he} could not find the {toy}.', 'After a while, {A.he} looked around, but the {toy} was gone.']),
    ...(r.chance(0.5) ? lostHelped(r) : lostAlone(r)),
  ],
  morals: [
    'From that day on, {A} took good care of {A.his} {toy}.',
    '{A} never left {A.his} {toy} behind again.',
    '{A} learned to keep {A.his} things safe.',
  ],
};

function lostHelped(r: Rng): string[] {
  return [
    r.pick(['Then {B} came over and asked, "Why are you sad, {A}?"', '{A.His} friend {B} saw {A.him} and asked, "What is wrong?"']),
    r.pick(['"I lost my {toy}," said {A}.', '{A} said, "I cannot find my {toy}."']),
    r.pick(['They looked under the {spot} and behind the {spot2}.', '{B} helped {A.him} look near the {spot} and in the tall grass.']),
    r.pick(['At last, {B} found the {toy} under a big {spot2}.', 'Then they saw a little {animal} playing with the {toy}!']),
    '{A} [hugged {B}|smiled at {B}] and said, "Thank you, {B}!"',
  ];
}

function lostAlone(r: Rng): string[] {
  return [
    r.pick(['{A} was very sad.', '{A} felt sad and started to cry.', '{A} did not know what to do.']),
    '{A.He} looked under the {spot} and behind the {spot2}.',
    'Then {A.he} saw something {color} [near the pond|in the grass|under a leaf].',
    r.pick(['It was {A.his} {toy}!', 'It was the {toy}, and a little {animal} was sitting on it!']),
  ];
}

const want: Plot = {
  name: 'want',
  events: (r) => [
    ...r.pick([
      ['{^time}, {A} saw a {color} {toy} in a shop window.', '{A.He} wanted it [so much|very much].'],
      ['{^time}, {A} saw {B} with a new {color} {toy}.', '{A.He} wanted one too.'],
    ]),
    '{A} asked {A.his} {P}, "Can I have a {toy}, please?"',
    '{A.His} {P} said, "[If you|When you] {chore} every day this week, [we will get one|you can have one]."',
    r.pick(['So {A} {chored} every day.', 'Every day, {A} {chored} without being asked.']),
    ...maybe(r, 0.5, 'Some days it was hard, but {A.he} did not give up.'),
    'At the end of the week, {A.his} {P} took {A.him} to the shop to get the {toy}.',
  ],
  morals: [
    '{A} was so proud, because {A.he} had worked hard for it.',
    '{A} learned that working hard can bring good things.',
  ],
};

const treat: Plot = {
  name: 'treat',
  events: (r) => [
    '{^time}, {A} smelled something [sweet|warm|good] in the kitchen.',
    '{A.His} {P} was baking {treat}.',
    '"Can I have some {treat} now?" asked {A}.',
    r.pick(['{A.His} {P} said, "Not yet, they are still too hot."', '{A.His} {P} said, "You can have some after dinner."']),
    'So {A} waited and [drew a picture|played with {A.his} {toy}|helped set the table].',
    ...maybe(r, 0.6, '[At last|Soon|After a long time], the {treat} were ready.'),
    '{A} and {A.his} {P} ate them together [at the table|in the garden|by the window].',
  ],
  morals: ['The {treat} were [warm and sweet|soft and yummy|the best {A} had ever eaten].', '{A} learned that some good things are worth the wait.'],
};

const helpAnimal: Plot = {
  name: 'help-animal',
  events: (r) => [
    '{^time}, {A} was walking {atPlace} when {A.he} heard {sound}.',
    'It was a little {animal} [under a bush|by the {spot}|in the tall grass].',
    ...r.pick([animalHurt, animalLost, animalStuck, animalHungry])(r),
  ],
  morals: [
    'From that day on, the {animal} came to visit {A} every day.',
    '{A} learned that it is good to help others.',
    '{A} felt warm inside, because {A.he} had been kind.',
  ],
};

function animalHurt(r: Rng): string[] {
  return [
    'The {animal} had a hurt [leg|paw] and could not [walk|run].',
    '{A} [gently picked it up|wrapped it in {A.his} scarf] and took it home.',
    '{A.His} {P} helped {A.him} [put a small bandage on its leg|make a warm bed in a box].',
    ...maybe(r, 0.5, 'Every day, {A} gave the {animal} food and water.'),
    'After a few days, the {animal} was [well|strong] again and went back to its home.',
  ];
}

function animalLost(r: Rng): string[] {
  return [
    'The {animal} was lost and could not find its [mother|family].',
    '{A} said, "[Do not be scared|It is okay], little {animal}. I will help you."',
    '{A} and {B} looked all around the {place}.',
    'Then they saw a big {animal} [near the {spot}|behind the {spot2}|by the water].',
    ...maybe(r, 0.6, 'It was the mother {animal}!'),
    'The little {animal} ran to its mother, and they were together again.',
  ];
}

const TRAPS: ReadonlyArray<readonly [string, string]> = [
  ['in a deep hole', 'reached in with long arms'], ['high up in a tree', 'got a ladder'],
  ['under a fence', 'lifted the fence a little'], ['in a thick bush', 'pulled the branches apart'],
];

function animalStuck(r: Rng): string[] {
  const [trap, rescue] = r.pick(TRAPS);
  return [
    `The {animal} was stuck ${trap}.`,
    '{A} tried to help, but {A.he} [could not reach it|was too small].',
    '{A.He} ran [home|back] to get {A.his} {P}.',
    `{A.His} {P} ${rescue} and helped the {animal} out.`,
    'The {animal} [made a happy sound|looked at {A} with big eyes] and ran off.',
  ];
}

function animalHungry(r: Rng): string[] {
  return [
    'The {animal} looked [cold and hungry|thin and tired|very hungry].',
    '{A} [shared {A.his} {snack} with it|gave it some of {A.his} {snack}].',
    ...maybe(r, 0.5, 'The {animal} ate it all up.'),
    'Then {A} made a [little|soft|warm] bed of [leaves|grass|old socks] for it.',
  ];
}

const weather: Plot = {
  name: 'weather',
  events: (r) => r.pick([rainyDay, snowDay, windyDay])(r),
  morals: ['It was a {good} day after all.', '{A} learned that every kind of weather can be fun.'],
};

function rainyDay(r: Rng): string[] {
  return [
    '{^time}, {A} wanted to [go to the {place}|play outside with {B}].',
    'But [dark clouds filled the sky|it started to rain|big drops of rain began to fall].',
    '{A} was [sad|grumpy], because {A.he} could not go outside.',
    '{A.His} {P} said, "Let\'s {indoor} inside!"',
    'So they {indoored} [together|all afternoon].',
    ...maybe(r, 0.6, '[Later|After a while], the rain stopped and the sun came out.'),
    ...maybe(r, 0.5, '{A} looked out the window and saw a [big|bright] rainbow.'),
  ];
}

function snowDay(r: Rng): string[] {
  return [
    'One cold morning, {A} woke up and saw that everything was white.',
    'It had snowed [all night|for hours|while {A.he} was asleep]!',
    '{A} put on {A.his} warm coat and ran outside with {B}.',
    'They [rolled|made] three big balls of snow and built a snowman.',
    '{A} gave the snowman a {color} hat, and {B} gave it a carrot nose.',
    ...maybe(r, 0.5, 'Then they made snow angels until their hands were cold.'),
  ];
}

function windyDay(r: Rng): string[] {
  return [
    '{^time}, the wind was strong, so {A} took {A.his} {color} kite to the hill.',
    'The kite flew [high up in the sky|above the trees|like a {color} bird].',
    'Then [the wind|a big gust] pulled the string out of {A.his} hand!',
    'The kite landed in a tall tree, and {A} [was sad|started to cry].',
    '{A.His} {P} [climbed up|used a long stick] and got it down.',
    '{A} held the string tight and flew the kite [all afternoon|until the sun went down].',
  ];
}

const bake: Plot = {
  name: 'bake',
  events: (r) => [
    '{^time}, {A} and {A.his} {P} wanted to bake a [cake|pie|loaf of bread] for {B}.',
    'They got out [the flour, the eggs, and the sugar|a big bowl, flour, and a wooden spoon|flour, butter, and {fruit}].',
    '{A} helped [mix|stir] everything in the bowl.',
    ...maybe(r, 0.5, 'Some flour fell on {A.his} nose, and they both laughed.'),
    'Soon the [house|kitchen] smelled [sweet|warm and good|so yummy].',
    'When it was ready, they [took it|gave some] to {B}.',
    '{B} [took a big bite|tasted it] and said, "This is the best I have ever had!"',
  ],
  morals: ['{A} learned that food tastes better when you share it.', '{A} and {B} ate it all together.'],
};

const share: Plot = {
  name: 'share',
  events: (r) => [
    '{^time}, {A} and {B} were playing {atPlace}.',
    'They both wanted to play with the same {color} {toy}.',
    '"It is mine!" [said|shouted] {A}.',
    '"No, I [had it first|want it]!" [said|cried] {B}.',
    ...maybe(r, 0.5, 'They pulled and pulled, and the {toy} fell in the mud.'),
    '{A} felt bad and said, "I am sorry, {B}. We can take turns."',
    '{B} smiled and said, "[Thank you|I am sorry too]. You can go first."',
  ],
  morals: [
    'They took turns and played together [all day|until the sun went down].',
    '{A} and {B} learned that sharing is more fun than fighting.',
  ],
};

const fear: Plot = {
  name: 'fear',
  events: (r) => r.pick([fearDark, fearBrave, fearStorm])(r),
  morals: ['{A} learned that {A.he} could be brave.', 'After that, {A} was not scared anymore.'],
};

function fearDark(r: Rng): string[] {
  return [
    '{A} was [scared|afraid] of the dark.',
    'One night, {A.he} heard a noise under {A.his} bed.',
    '"{P.Name}!" {A.he} called.',
    '{A.His} {P} turned on the light and looked under the bed.',
    'It was only {A.his} [old|lost|little] {toy}!',
    ...maybe(r, 0.5, '{A} laughed, and {A.his} {P} gave {A.him} a small night light.'),
  ];
}

const DARES: ReadonlyArray<readonly [string, string]> = [
  ['playground', 'go down the big slide'], ['lake', 'swim in the lake'], ['hill', 'climb to the top of the hill'],
  ['park', 'climb the big tree'], ['farm', 'ride the old horse'], ['river', 'walk across the little bridge'],
];

function fearBrave(r: Rng): string[] {
  const [place, dare] = r.pick(DARES);
  return [
    `{^time}, {A} went to the ${place} with {B}.`,
    `{B} wanted to ${dare}.`,
    'But {A} was [scared|afraid|too scared to move].',
    '{B} held {A.his} hand and said, "I will be with you. You can do it!"',
    '{A} took a deep breath and [went with {B}|did it]!',
    ...maybe(r, 0.6, 'It was so much fun that {A.he} wanted to do it again!'),
  ];
}

function fearStorm(r: Rng): string[] {
  return [
    'One [night|dark evening], there was a [big|loud|long] storm.',
    'The thunder was very loud, and {A} hid under {A.his} blanket.',
    '{A.His} {P} sat on the bed and [told {A.him} a story|sang a soft song].',
    ...maybe(r, 0.5, '"The storm is loud, but it cannot hurt you," said {A.his} {P}.'),
    'Soon {A} was not scared anymore, and {A.he} fell asleep.',
  ];
}

const newFriend: Plot = {
  name: 'new-friend',
  meetsB: true,
  events: (r) => [
    '{^time}, {A} was playing alone {atPlace}.',
    '{A.He} saw a {B.kind} [sitting alone on a bench|who looked sad|standing by the {spot}].',
    '{A} walked over and said, "[Hi|Hello], I am {A}. What is your name?"',
    '"My name is {B}," said the {B.kind}.',
    ...maybe(r, 0.5, '"I am new here," {B.he} said.'),
    '{A} asked, "Do you want to {game} with me?"',
    '{B} smiled and said, "Yes, [I would like that|that sounds fun|let\'s go]!"',
  ],
  morals: ['They {gamed} until it was time to go home.', 'From that day on, {A} and {B} were best friends.'],
};

const garden: Plot = {
  name: 'garden',
  events: (r) => [
    '{^time}, {A.his} {P} gave {A} a [tiny|small] seed.',
    '{A} put the seed in a pot [of soft dirt|by the window].',
    'Every day, {A.he} gave it water and [sang to it|put it in the sun].',
    ...maybe(r, 0.5, 'At first, nothing happened, and {A} was sad.'),
    '[One morning|After many days], {A.he} saw a small green leaf.',
    'Soon it grew into a [big {color} flower|tall sunflower|little tree with {fruit}].',
  ],
  morals: ['{A} learned that good things take time.', '{A} showed it to {B}, and {B} said it was beautiful.'],
};

const gift: Plot = {
  name: 'gift',
  events: (r) => [
    '{^time}, {A} remembered that it was {A.his} {P}\'s birthday.',
    '{A.He} wanted to give {A.his} {P} a [present|gift], but {A.he} had no money.',
    'So {A.he} [made a card with {color} paper|picked some flowers in the garden|drew a picture of the {place}].',
    ...maybe(r, 0.5, '{A.He} wrote "[I love you|Happy birthday|You are the best]" on it in big letters.'),
    'When {A.his} {P} saw the gift, {P.he} [smiled a big smile|laughed with joy|had tears in {P.his} eyes].',
    '"This is the best gift ever!" said {A.his} {P}, and {P.he} gave {A} a big hug.',
  ],
  morals: ['{A} learned that the best gifts come from the heart.', '{A} felt proud and happy all day.'],
};

const outing: Plot = {
  name: 'outing',
  events: (r) => r.pick([beachDay, woodsWalk])(r),
  morals: ['It was a {good} day, and they went home tired and happy.', '{A} and {B} wanted to come back soon.'],
};

function beachDay(r: Rng): string[] {
  return [
    '{^time}, {A} and {B} went to the beach [with a bucket|with {A.his} {P}|to play].',
    'They built a big sand castle [near the water|with a tall tower].',
    'Then a [big|tall|sneaky] wave came and washed it away.',
    '{B} was sad, but {A} said, "Let\'s build a bigger one!"',
    ...maybe(r, 0.6, 'They found {color} shells and put them on the new castle.'),
    'It was the [best|biggest|prettiest] castle on the beach.',
  ];
}

function woodsWalk(r: Rng): string[] {
  return [
    '{^time}, {A} and {B} went for a walk in the woods.',
    'They saw [tall trees|pretty flowers|a {animal}] and heard [birds sing|the wind in the leaves|a woodpecker].',
    'Then they found a [small|narrow|mossy] path they had never seen before.',
    'At the end of the path, there was a [little pond with ducks|field of {color} flowers|big old tree].',
    ...maybe(r, 0.6, 'They sat down and ate their {snack}.'),
  ];
}

const race: Plot = {
  name: 'race',
  events: (r) => [
    '{^time}, there was a big race [in the park|at school|on the farm].',
    '{A} and {B} both wanted to win[ the prize|].',
    '[They|The two friends] ran as fast as [they could|their legs could go].',
    'Then {B} [tripped|slipped on the grass] and fell down.',
    '{A} [stopped|turned around] and helped {B} get up.',
    ...maybe(r, 0.6, 'They crossed the line together, [holding hands|laughing|side by side].'),
    'They did not win, but [everyone clapped for them|all their friends cheered|their teacher smiled at them].',
  ],
  morals: ['{A} knew that helping a friend is better than winning.', '{B} said, "Thank you, {A}. You are a good friend."'],
};

/** Every plot, each equally likely. */
export const PLOTS: readonly Plot[] = [
  lost, want, treat, helpAnimal, weather, bake, share, fear, newFriend, garden, gift, outing, race,
];
