// Hugging Face model directories in and out.
export { HF_CONFIG, HF_INDEX, HF_WEIGHTS, type HfModel, type LoadHfOptions, hfFingerprint, isHfModelDir, loadHfModel, readHfConfig, readHfTokenizer } from "./read.js";
export { type SaveHfOptions, type SavedHf, saveHfModel } from "./write.js";
