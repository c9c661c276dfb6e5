/** A target index the cross-entropy loss skips (prompt tokens, padding), as in PyTorch. */
export const IGNORE_INDEX = -100;
