// Weak labels for the semantic projection (stage 4): a pluggable labeler gives every
// prediction step of a response (each response token, then the end marker) a multi-hot
// vector over its vocabulary. The default is rule-based and reads only the text, so it works
// for the built-in prompt pack (and any "verb operand" prompt) without a model.
//
// Primitives, at step i predicting token y (p = the previous response token):
//   transition  i = 0: the step from prompt to answer
//   return      y is the end marker: the answer closes
//   echo        y occurs in the prompt's operand (copied from the input)
//   dwell       y = p: a run continues
//   shift       y and p are of different kinds (digit, letter, bracket, other)
//   stabilize   p then y are neighbours in the operand (either direction): the answer walks the input
// Invariants of the answer so far (y included; never at the end marker):
//   prefix_of_input     it is a prefix of the operand
//   prefix_of_reversed  it is a prefix of the reversed operand
//   sorted_so_far       it is non-decreasing and at least two tokens long
// The operand is the prompt after its last space (the whole prompt when there is none).
// Legend: S steps (response tokens + 1), P labels.
import { END_BYTE } from "../../data/mod.js";
import { ModelConfigError } from "../errors.js";

export const STEP_PRIMITIVES = ["stabilize", "transition", "dwell", "echo", "return", "shift"] as const;
export const STEP_INVARIANTS = ["prefix_of_input", "prefix_of_reversed", "sorted_so_far"] as const;
export const STEP_VOCABULARY: readonly string[] = [...STEP_PRIMITIVES, ...STEP_INVARIANTS];

/** What a labeler sees of an example: its text and its tokens (chat template applied). */
export interface LabelInput {
  readonly prompt: string;
  readonly response: string;
  readonly ids: Int32Array;
  /** tokens before the first response token */
  readonly promptLen: number;
}

export interface WeakLabeler {
  readonly name: string;
  readonly vocabulary: readonly string[];
  /** multi-hot [S, P], S = ids.length − promptLen (the response tokens and the end marker) */
  label(item: LabelInput): Uint8Array;
}

const kind = (b: number) => (b >= 48 && b <= 57 ? 0 : (b >= 65 && b <= 90) || (b >= 97 && b <= 122) ? 1 : "()[]{}<>".includes(String.fromCharCode(b)) ? 2 : 3);

function operandOf(prompt: string): Uint8Array {
  const bytes = new TextEncoder().encode(prompt);
  const sp = bytes.lastIndexOf(32);
  return bytes.subarray(sp + 1);
}

/** The default labeler (rules above). */
export function ruleLabeler(): WeakLabeler {
  const P = STEP_VOCABULARY.length;
  const at = (name: string) => STEP_VOCABULARY.indexOf(name);
  const [iStab, iTrans, iDwell, iEcho, iRet, iShift, iPre, iRev, iSort] = [
    "stabilize", "transition", "dwell", "echo", "return", "shift", "prefix_of_input", "prefix_of_reversed", "sorted_so_far",
  ].map(at) as [number, number, number, number, number, number, number, number, number];
  return {
    name: "rules",
    vocabulary: STEP_VOCABULARY,
    label(item) {
      const S = item.ids.length - item.promptLen;
      if (!(item.promptLen >= 1) || S < 1) throw new ModelConfigError("semantic.labeler", `an example needs a prompt and at least the end marker (promptLen ${item.promptLen}, ${item.ids.length} tokens)`);
      const op = operandOf(item.prompt);
      const rev = Uint8Array.from(op).reverse();
      const out = new Uint8Array(S * P);
      let prefix = true;
      let prefixRev = true;
      let sorted = true;
      for (let i = 0; i < S; i++) {
        const y = item.ids[item.promptLen + i]!;
        const p = i > 0 ? item.ids[item.promptLen + i - 1]! : -1;
        const row = out.subarray(i * P, (i + 1) * P);
        if (i === 0) row[iTrans] = 1;
        if (y === END_BYTE) {
          row[iRet] = 1;
          continue;
        }
        if (op.includes(y)) row[iEcho] = 1;
        if (i > 0) {
          if (y === p) row[iDwell] = 1;
          if (kind(y) !== kind(p)) row[iShift] = 1;
          for (let k = 0; k < op.length; k++) {
            if (op[k] === p && (op[k + 1] === y || (k > 0 && op[k - 1] === y))) {
              row[iStab] = 1;
              break;
            }
          }
          if (y < p) sorted = false;
        }
        prefix &&= op[i] === y;
        prefixRev &&= rev[i] === y;
        if (prefix) row[iPre] = 1;
        if (prefixRev) row[iRev] = 1;
        if (sorted && i > 0) row[iSort] = 1;
      }
      return out;
    },
  };
}

/**
 * A labeler from per-example labels (e.g. the prompt pack's task-level `metadata.labels`, which
 * the data layer's semantic lane turns into `item.labels`): every step of the response gets
 * its example's labels. Shows the seam; the step-level rules above are the default.
 */
export function exampleLabeler(vocabulary: readonly string[], labelsOf: (item: LabelInput) => Uint8Array | null): WeakLabeler {
  const P = vocabulary.length;
  return {
    name: "example",
    vocabulary,
    label(item) {
      const S = item.ids.length - item.promptLen;
      const l = labelsOf(item);
      if (!l || l.length !== P) throw new ModelConfigError("semantic.labeler", `an example has ${l ? l.length : "no"} labels, the vocabulary ${P}`);
      const out = new Uint8Array(S * P);
      for (let i = 0; i < S; i++) out.set(l, i * P);
      return out;
    },
  };
}
