// `troupe verify DIR`: model and adapter directories against their PyTorch reference.
export { type ComparisonReport, type DirRun, DirCheckKind, compareRun, modelNumerics } from "./compare.js";
export { type DirVerifyReport, verifyAdapterDir, verifyDir, verifyModelDir } from "./dirs.js";
export { FIXTURE_ADAMW, REFERENCE_BF16_FILE, REFERENCE_FILE, type AdamWSettings } from "./reference.js";
export { type LoraVerifyReport, isLoraFixture, verifyLoraFixture } from "./lora-fixture.js";
