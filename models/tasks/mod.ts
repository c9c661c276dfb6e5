// Library tasks: text LM training, SFT, and the quickstart's pretrainBase / trainAdapter /
// evaluateExactMatch.
export { type DataParallelOptions, type RunOptions, resumePoint } from "./common.js";
export { type TextTrainOptions, type TextTrainResult, trainText } from "./text.js";
export {
  DEFAULT_PACK_CONFIG, DEFAULT_SFT_BLOCK, type PretrainBaseOptions, type SftData, type SftTrainOptions, type SftTrainResult,
  type DataSkips, type TrainAdapterOptions, type TrainAdapterResult, jsonlData, packData, pretrainBase, trainAdapter, trainSft,
} from "./sft.js";
export { type ExactMatchItem, type ExactMatchOptions, type ExactMatchResult, evaluateExactMatch } from "./exact-match.js";
export { type SftEvalResult, type TextEvalResult, evaluateSft, evaluateText } from "./eval.js";
export * from "./agp/mod.js";
