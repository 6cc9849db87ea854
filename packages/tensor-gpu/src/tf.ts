/**
 * The one tfjs-core instance the whole stack uses. Other @llm packages import `tf` from here so
 * that they never pull a second copy of tfjs-core (and a second engine) into a program.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers neither gradients nor the chained `x.add(y)` methods; the
// @tensorflow/tfjs union package does both, and so do we.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';
// Side-effect imports: register the two backends that always work (pure JS and WebAssembly).
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerBatchMatMulGradient } from './gradients/batch-matmul.js';

registerBatchMatMulGradient(); // tfjs's own drops broadcasting (see the file)

export { tf };
