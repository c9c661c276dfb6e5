// The fixed vocabulary of semantic labels for the stage-4 multi-label head: primitives (what a
// task is made of) and invariants (what holds between prompt and answer). The order is the
// column order of the multi-hot target; append new labels at the end, never reorder.

export const SEMANTIC_PRIMITIVES = [
  "digit", //       the task reads or writes digits
  "letter", //      the task reads or writes letters
  "bracket", //     the input is made of brackets
  "arithmetic", //  the answer is computed with + or -
  "carry", //       an addition column carries
  "borrow", //      a subtraction column borrows
  "order", //       the answer depends on positions/ordering
  "reverse", //     the answer is the input reversed
  "count", //       the answer is a count
  "copy", //        the answer is the input repeated
  "match", //       brackets must be matched against each other
  "absent", //      the counted symbol does not occur
] as const;

export const SEMANTIC_INVARIANTS = [
  "length_preserved", //   answer has the input's length
  "multiset_preserved", // answer has the input's symbols, same multiplicities
  "sorted_output", //      answer is in ascending order
  "balanced", //           the bracket string is balanced
  "unchanged", //          answer equals the input string
] as const;

export type SemanticPrimitive = (typeof SEMANTIC_PRIMITIVES)[number];
export type SemanticInvariant = (typeof SEMANTIC_INVARIANTS)[number];
export type SemanticLabel = SemanticPrimitive | SemanticInvariant;

/** Primitives then invariants: the default vocabulary of the semantic lane. */
export const SEMANTIC_LABELS: readonly SemanticLabel[] = [...SEMANTIC_PRIMITIVES, ...SEMANTIC_INVARIANTS];

/** Multi-hot vector over `vocabulary` (1 where the label is present); unknown labels are ignored. */
export function multiHot(labels: readonly string[], vocabulary: readonly string[]): Uint8Array {
  const out = new Uint8Array(vocabulary.length);
  for (const l of labels) {
    const i = vocabulary.indexOf(l);
    if (i >= 0) out[i] = 1;
  }
  return out;
}
