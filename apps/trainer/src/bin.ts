#!/usr/bin/env node
import { main } from './cli.js';

// Under `npm start` / `npm run`, npm runs us inside apps/trainer; paths the user typed (--data,
// --out) are relative to where they ran npm, which npm passes as INIT_CWD.
const { INIT_CWD, npm_lifecycle_event: event, npm_package_name: pkg } = process.env;
if (INIT_CWD && event === 'start' && pkg === '@llm/trainer') process.chdir(INIT_CWD);
process.exitCode = await main(process.argv.slice(2));
