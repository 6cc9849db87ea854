// GENERATED FILE, do not edit. Regenerate with: npm run build:wasm -w @llm/infer
// from assembly/index.ts with
// asc -O3 --noAssert --runtime stub --use abort= --importMemory --sharedMemory --initialMemory
//     1 --maximumMemory 65536 --enable simd --enable threads --converge
// 252 bytes of wasm; imports env.memory (shared, up to 4 GiB); exports the engine and its kernels.
export const ENGINE_WASM_BASE64 =
  'AGFzbQEAAAABDQFgCX9/f39/f39/fwACEgEDZW52Bm1lbW9yeQIDAYCABAMCAQAGBgF/AEEACwcdAwdGTVRfRjMyAwAGbWF0bXVsAAAGbWVtb3J5AgAKowEBoAECBX8BfSAABEAABQNAIAYgCUoEQCACIAUgCWxBAnRqIQsgByEAA0AgACAISARAIAEgACAFbEECdGohDEMAAAAAIQ5BACEKA0AgBSAKSgRAIA4gDCAKQQJ0Ig1qKgIAIAsgDWoqAgCUkiEOIApBAWohCgwBCwsgAyAEIAlsIABqQQJ0aiAOOAIAIABBAWohAAwBCwsgCUEBaiEJDAELCwsL';
