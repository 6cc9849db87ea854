/**
 * The one tfjs-core instance the whole stack uses. Other @llm packages import `tf` from here so
 * that they never pull a second copy of tfjs-core (and a second engine) into a program.
 */
import * as tf from '@tensorflow/tfjs-core';
// Side-effect imports: register the two backends that always work (pure JS and WebAssembly).
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

export { tf };
