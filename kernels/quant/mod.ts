// Quantisation: ggml's Q8_0/Q4_0 blocks (native, with a reference twin), fake-quant ops with
// straight-through estimators for QAT (b-bit grids, ternary BitNet b1.58, 1-bit sign, 8-bit
// per-token activations) and PTQ calibration observers.
export { BLOCK_BYTES, BLOCK_SIZE, BlockType, blockBytes, blockScale, dequantizeBlocks, halfToFloat, quantizeBlocks, roundTripBlocks } from "./blocks.js";
export { Granularity, SteKind, activationQuant8, fakeQuant, signQuant, ternaryQuant, type FakeQuantOptions } from "./fake.js";
export { CalibrationKind, createObserver, type CalibrationOptions, type Observer } from "./calibrate.js";
