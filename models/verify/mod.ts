// `troupe verify DIR`: model and adapter directories against their PyTorch reference.
export { type ComparisonReport, type NamedComparison, compareTensors } from "./compare.js";
export { type DirVerifyReport, dirVerifyTolerances, verifyAdapterDir, verifyDir, verifyModelDir } from "./dirs.js";
export { FIXTURE_ADAMW, REFERENCE_BF16_FILE, REFERENCE_FILE, type AdamWSettings } from "./reference.js";
