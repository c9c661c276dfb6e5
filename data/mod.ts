// The public surface of the data layer. Other layers import only from here.

// errors
export {
  CorpusError,
  DataConfigError,
  DataRecordError,
  DataStateError,
  isCorpusError,
  isDataConfigError,
  isDataError,
  isDataRecordError,
  isDataStateError,
  isTokenizerError,
  isUnsupportedTokenizerError,
  TokenizerError,
  UnsupportedTokenizerError,
  type DataError,
} from "./errors.js";

// randomness
export { createRng, deriveSeed, hashString, seedState, type Rng, type RngState } from "./rng.js";

// tokens and the chat template
export {
  byteTokenizer,
  END_BYTE,
  END_MARKER,
  tokenizerId,
  type DecodeOptions,
  type EncodeOptions,
  type Tokenizer,
  type TokenizerSettings,
  type TokenizerSpec,
} from "./tokenizer.js";
export { TOKENIZER_CONFIG_FILE, TOKENIZER_FILE, tokenizerFromJson, type HfTokenizer } from "./tokenizers/hf.js";
export { trainBpe, type BpeTrainOptions, type TrainedBpe } from "./tokenizers/trainer.js";
export { bpeTokenizerConfig, bpeTokenizerJson, loadTokenizer, tokenizerFromFiles, tokenizerOfTrained, writeTokenizerDir } from "./tokenizers/files.js";
export { hfChatTemplate, templateFor, type ChatMessage } from "./tokenizers/chat.js";
export { BYTE_ORDER, BYTE_TO_CHAR, GPT2_SPLIT, fromByteLevel, toByteLevel } from "./tokenizers/byte-level.js";
export { compileOniguruma, translateOniguruma } from "./tokenizers/regex.js";
export {
  chatTemplate,
  DEFAULT_ASSISTANT_PREFIX,
  DEFAULT_USER_PREFIX,
  type ChatTemplate,
  type ChatTemplateOptions,
  type EncodedExample,
} from "./template.js";

// batches
export { fingerprint, type ResumableBatcher, type TokenBatch } from "./batch.js";
export {
  corpusFromText,
  corpusFromTokens,
  DEFAULT_VAL_FRACTION,
  loadTextCorpus,
  splitIndex,
  type CorpusOptions,
  type TextCorpus,
} from "./corpus.js";
export { shardBatches, shareOf, type ShardedBatcher, type ShardOptions, type ShardState } from "./shard.js";
export { bitsPerByte, targetBytes } from "./bpb.js";
export { createWindowSampler, evalWindows, type WindowOptions, type WindowSampler, type WindowSamplerState } from "./windows.js";
export {
  createSftBatcher,
  fitExample,
  OVERFLOW_RULES,
  packRows,
  sftEvalBatches,
  type FitResult,
  type OverflowRule,
  type SftBatcher,
  type SftBatcherState,
  type SftBatchOptions,
  type SftItem,
} from "./sft.js";

// records
export {
  DEFAULT_DOMAIN,
  DIFFICULTIES,
  SPLITS,
  toJsonRecord,
  validateRecord,
  type Difficulty,
  type PromptRecord,
  type RecordCheck,
  type RecordMetadata,
  type Split,
} from "./records.js";
export { loadJsonl, parseJsonl, toJsonl, writeJsonl, type JsonlOptions, type LoadedRecords } from "./jsonl.js";
export { createSkipLog, formatSkips, mergeSkips, type SkipEntry, type SkipLog, type SkipSummary } from "./skips.js";
export { recordStats, type RecordStats } from "./inspect.js";

// the built-in prompt pack
export { DOMAIN_NAMES, isBalanced } from "./pack/domains.js";
export {
  DEFAULT_HELD_OUT_PER_CELL,
  DEFAULT_PACK_SEED,
  DEFAULT_TRAIN_PER_CELL,
  generatePack,
  resolvePackOptions,
  type PackCell,
  type PackOptions,
  type PromptPack,
  type ResolvedPackOptions,
} from "./pack/generate.js";
export {
  multiHot,
  SEMANTIC_INVARIANTS,
  SEMANTIC_LABELS,
  SEMANTIC_PRIMITIVES,
  type SemanticInvariant,
  type SemanticLabel,
  type SemanticPrimitive,
} from "./pack/labels.js";
export { createScoreboard, normalizeAnswer, score, type Scoreboard, type ScoreSummary, type Tally } from "./pack/score.js";

// lanes
export {
  DEFAULT_BLOCK,
  DEFAULT_DATA_SEED,
  LANE_NAMES,
  resolveDataConfig,
  type CorpusConfig,
  type DataConfig,
  type JsonlSource,
  type LaneName,
  type LanesConfig,
  type LaneSelection,
  type PackSource,
  type RoutingLaneConfig,
  type SemanticLaneConfig,
  type SftLaneConfig,
  type SourceConfig,
  type TransferLaneConfig,
} from "./lanes/config.js";
export type { LaneItem } from "./lanes/rules.js";
export { loadSource, splitRecords, type SourceRecords, type SourceReport } from "./lanes/source.js";
export { buildLane, buildLanes, loadData, type DataSet, type Lane, type LaneReport, type Lanes, type LoadDataOptions, type RecordSplits } from "./lanes/build.js";

// evidence for gates
export {
  type AnsweredItem,
  type BootstrapOptions,
  type CompareOptions,
  type Evidence,
  type Interval,
  type MeasuredAccuracy,
  type MeasuredReference,
  type MeanComparisonOptions,
  type StatOptions,
  type ValuedReference,
  bootstrapStat,
  compareMeans,
  REFERENCE_KINDS,
  type Reference,
  type ReferenceKind,
  TRIVIAL_BASELINES,
  type TrivialBaseline,
  type TrivialBaselineName,
  compareAgainstReferences,
  formatAccuracy,
  pairedBootstrap,
  trivialBaselines,
  wilson,
  zFor,
} from "./evidence/mod.js";
