// tsup config of @llm/tensor-gpu: the shared one, plus bundling tfjs-core's gradient and
// chained-op registrations. Those live only in tfjs-core's ESM files (its Node entry point
// registers neither), which Node cannot load directly; bundling them is what the official
// @tensorflow/tfjs package does too. tfjs keeps the engine, kernel/gradient registries and the
// Tensor class in globals, so the bundled copy registers into the one engine the program uses.
import { defineConfig } from 'tsup';
import shared from '../../tsup.shared.js';

export default defineConfig({
  ...shared,
  noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
  // The .d.ts bundle drops side-effect imports; keep the chained-op type augmentation
  // (`x.add(y)`, `x.reshape(...)`) visible to every package that imports `tf` from here.
  dts: { banner: "import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';" },
});
