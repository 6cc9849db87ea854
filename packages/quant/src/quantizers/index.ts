// Weight-only quantizers over a weight matrix [out, in].
export { roundHalfEven, type WeightMatrix } from './common.js';
export { quantizeInt8, makeInt8, INV_127, type Int8Weight, type Int8Options } from './int8.js';
export { quantizeInt4, makeInt4, packInt4, unpackInt4, dequantizeInt4, INT4_GROUP_SIZES, type Int4Weight, type Int4Options } from './int4.js';
export {
  quantizeNf4,
  makeNf4,
  doubleQuantize,
  dequantizeNested,
  dynamicMap,
  quantizeBlockwise,
  dequantizeBlockwise,
  packNibblesHighFirst,
  unpackNibblesHighFirst,
  NF4_CODE,
  type Nf4Weight,
  type Nf4Options,
  type NestedAbsmax,
} from './nf4.js';

import type { Int4Weight } from './int4.js';
import type { Int8Weight } from './int8.js';
import type { Nf4Weight } from './nf4.js';
/** Any quantized weight the modules run. */
export type QuantizedWeight = Int8Weight | Int4Weight | Nf4Weight;
