// tokenizer.json files for the tokenizer tests, made here (no hub downloads): a GPT-2-style
// byte-level BPE trained by troupe, the same vocabulary dressed as Llama-3 ships it (Split
// regex + ByteLevel without regex, ignore_merges, a BOS template, <|eot_id|> and a chat
// template), and SentencePiece-style BPEs with byte fallback as Llama-2/TinyLlama ship them
// (Prepend/Replace normalizer or a Metaspace pre-tokenizer, <unk> <s> </s>, <0x00>..<0xFF>).
import * as D from "../../data/mod.js";

export const enc = (s: string | object) => new TextEncoder().encode(typeof s === "string" ? s : JSON.stringify(s));

/** A few kilobytes of varied text: prose, code, numbers, several scripts, emoji. */
export function sampleCorpus(): string {
  const lines = [
    "First Citizen:\nBefore we proceed any further, hear me speak.",
    "All:\nSpeak, speak. You are all resolved rather to die than to famish?",
    "I'm sure they'll say it's the king's, we've heard; don't you think? I'd rather not.",
    "function add(a, b) {\n    return a + b; // 12345 + 678\n}\n\tindented\ttabs",
    "Numbers: 3.14159, 2718281828, 1000000 and 42nd street; 007.",
    "Café déjà vu — naïve façade. Ünïcödé ß ẞ Œuvre.",
    "日本語のテキストと中文文本，还有한국어 문장.",
    "Emoji 🎭🎭 and 👩‍👩‍👧 family, flags 🇫🇷🇯🇵, skin 👍🏽.",
    "Whitespace   runs\t\t\tand\r\nwindows\r\nlines  \n\n\n  end",
  ];
  const out: string[] = [];
  for (let i = 0; i < 30; i++) out.push(lines[i % lines.length]!, lines[(i * 7) % lines.length]!);
  return out.join("\n");
}

/** Text that tends to break tokenizers. */
export const AWKWARD = [
  "", " ", "  ", "\n", "a", "hello world", " leading space", "trailing space ", "double  space", "tabs\t\there",
  "CRLF\r\nline\r\n", "NBSP\u00a0here", "ideographic\u3000space", "NEL\u0085char", "BOM\ufeffinside", "LS\u2028PS\u2029",
  "zero\u200bwidth", "I'M LOUD, DON'T SHOUT", "it's we're they've I'd you'll", "'s 're",
  "12345678901234567890", "x=1;y=22;z=333", "Café", "e\u0301 combining", "ß ẞ ǅ", "Ελληνικά κείμενα", "Русский текст",
  "עברית ימין לשמאל", "العربية", "हिन्दी", "日本語", "中文，标点。", "한국어",
  "🎭", "👩‍👩‍👧 zwj", "🇫🇷🇯🇵", "👍🏽", "a🎭b", "🎭🎭🎭", "\u0000nul", "\u0001ctrl\u001f", "\udc00lone",
  "tail<|endoftext|>", "<|endoftext|>head", "two<|endoftext|><|endoftext|>specials", "<|endoftext", "<|endoftext|",
  "    indented code\n\tx = [1, 2, 3]\n", "!!!???...", "—–-", "$€£¥₹", "~`^|\\", "\"quotes\" and 'apostrophes'",
];

/** GPT-2 style: troupe's own trained BPE. */
export function gpt2Style(text = sampleCorpus(), vocabSize = 600): { json: string; config: string } {
  const t = D.trainBpe(text, { vocabSize });
  return { json: D.bpeTokenizerJson(t), config: D.bpeTokenizerConfig(t) };
}

export const LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
export const LLAMA3_CHAT = "{{- bos_token }}{%- for message in messages %}{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}";

/** Llama-3 style: the same vocabulary with Llama-3's pipeline, special tokens and chat template. */
export function llama3Style(text = sampleCorpus(), vocabSize = 600): { json: string; config: string } {
  const t = D.trainBpe(text, { vocabSize, specialTokens: [] });
  const base = JSON.parse(D.bpeTokenizerJson(t)) as Record<string, any>;
  const n = t.tokens.length;
  const names = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"];
  const added = names.map((content, i) => ({ id: n + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  added.push({ id: n + 5, content: "troupe-added", single_word: false, lstrip: false, rstrip: false, normalized: false, special: false });
  added.push({ id: n + 6, content: "<mask>", single_word: false, lstrip: true, rstrip: true, normalized: false, special: true });
  base.added_tokens = added;
  base.pre_tokenizer = { type: "Sequence", pretokenizers: [
    { type: "Split", pattern: { Regex: LLAMA3_SPLIT }, behavior: "Isolated", invert: false },
    { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
  ] };
  base.model.ignore_merges = true;
  base.post_processor = { type: "Sequence", processors: [
    { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
    { type: "TemplateProcessing", single: [{ SpecialToken: { id: "<|begin_of_text|>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [], special_tokens: { "<|begin_of_text|>": { id: "<|begin_of_text|>", ids: [n], tokens: ["<|begin_of_text|>"] } } },
  ] };
  const config = { bos_token: "<|begin_of_text|>", eos_token: "<|eot_id|>", clean_up_tokenization_spaces: true, chat_template: LLAMA3_CHAT, tokenizer_class: "PreTrainedTokenizerFast" };
  return { json: JSON.stringify(base), config: JSON.stringify(config) };
}

/** SentencePiece-style BPE merges learned over "▁word" pieces; rare characters are left to byte fallback. */
function spMerges(text: string, merges: number): { vocab: string[]; merges: [string, string][] } {
  const counts = new Map<string, number>();
  for (const w of ("▁" + text.replaceAll(" ", "▁")).split(/(?=▁)/u)) counts.set(w, (counts.get(w) ?? 0) + 1);
  const charCount = new Map<string, number>();
  for (const [w, c] of counts) for (const ch of w) charCount.set(ch, (charCount.get(ch) ?? 0) + c);
  const alphabet = [...charCount].filter(([, c]) => c >= 20).map(([ch]) => ch).sort();
  const known = new Set(alphabet);
  const words = [...counts].map(([w, c]) => ({ s: Array.from(w), c }));
  const vocab = [...alphabet];
  const out: [string, string][] = [];
  for (let m = 0; m < merges; m++) {
    const pairs = new Map<string, number>();
    for (const { s, c } of words) for (let i = 0; i + 1 < s.length; i++) {
      if (!known.has(s[i]!) || !known.has(s[i + 1]!)) continue;
      const k = s[i] + "\u0000" + s[i + 1];
      pairs.set(k, (pairs.get(k) ?? 0) + c);
    }
    let best: string | null = null;
    let bestC = 1;
    for (const [k, c] of pairs) if (c > bestC || (c === bestC && best !== null && k < best)) [best, bestC] = [k, c];
    if (best === null) break;
    const [a, b] = best.split("\u0000") as [string, string];
    out.push([a, b]);
    if (!known.has(a + b)) {
      known.add(a + b);
      vocab.push(a + b);
    }
    for (const w of words) for (let i = 0; i + 1 < w.s.length; i++) if (w.s[i] === a && w.s[i + 1] === b) w.s.splice(i, 2, a + b);
  }
  return { vocab, merges: out };
}

/** Llama-2 / TinyLlama style (legacy: Prepend + Replace normalizer, no pre-tokenizer), or with a Metaspace pre-tokenizer. */
export function llama2Style(opts: { metaspace?: boolean; byteFallback?: boolean; unk?: boolean } = {}, text = sampleCorpus()): { json: string; config: string } {
  const { vocab: pieces, merges } = spMerges(text, 250);
  const vocab: Record<string, number> = Object.create(null);
  const specials = ["<unk>", "<s>", "</s>"];
  specials.forEach((t, i) => (vocab[t] = i));
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`] = 3 + b;
  for (const p of pieces) if (!(p in vocab)) vocab[p] = Object.keys(vocab).length;
  const doc = {
    version: "1.0", truncation: null, padding: null,
    added_tokens: specials.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: opts.metaspace ? null : { type: "Sequence", normalizers: [{ type: "Prepend", prepend: "▁" }, { type: "Replace", pattern: { String: " " }, content: "▁" }] },
    pre_tokenizer: opts.metaspace ? { type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: false } : null,
    post_processor: { type: "TemplateProcessing", single: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }], pair: [],
      special_tokens: { "<s>": { id: "<s>", ids: [1], tokens: ["<s>"] } } },
    decoder: { type: "Sequence", decoders: [{ type: "Replace", pattern: { String: "▁" }, content: " " }, { type: "ByteFallback" }, { type: "Fuse" }, { type: "Strip", content: " ", start: 1, stop: 0 }] },
    model: { type: "BPE", dropout: null, unk_token: opts.unk === false ? null : "<unk>", continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: true, byte_fallback: opts.byteFallback !== false, ignore_merges: false, vocab, merges },
  };
  const config = { bos_token: "<s>", eos_token: "</s>", unk_token: "<unk>", add_bos_token: true, clean_up_tokenization_spaces: false, legacy: true };
  return { json: JSON.stringify(doc), config: JSON.stringify(config) };
}
