// Chat templates and the prompt/response boundary with any tokenizer: the Jinja chat_template
// of tokenizer_config.json (rendered by @huggingface/jinja), the plain Q:/A: template over a
// BPE, the loss mask, and the deliberate handling of a token that would straddle the boundary.
// guards #15 (item 4)
import { test } from "node:test";
import assert from "node:assert/strict";
import * as D from "../../data/mod.js";
import { IGNORE_INDEX } from "../../kernels/constants.js";
import { enc, gpt2Style, llama3Style } from "./tokenizer-fixtures.js";

const llama3 = () => {
  const f = llama3Style();
  return D.tokenizerFromJson(enc(f.json), enc(f.config));
};

test("chat - a tokenizer_config.json chat_template renders the Llama-3 turn layout", () => {
  const tok = llama3();
  const tpl = D.templateFor(tok);
  assert.equal(tpl.kind, "hf");
  assert.equal(tpl.renderPrompt("What is 2+2?"), "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
  const chat = D.hfChatTemplate(tok);
  assert.equal(
    chat.render([{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }, { role: "assistant", content: "Hello" }], false),
    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello<|eot_id|>",
  );
});

test("chat - an example is prompt ids ++ response ids ++ eot, and the loss mask covers exactly the response and eot", () => {
  const tok = llama3();
  const tpl = D.templateFor(tok);
  const ex = tpl.encodeExample("What is 2+2?", "It is 4.");
  assert.deepEqual([...ex.ids.subarray(0, ex.promptLen)], [...tpl.encodePrompt("What is 2+2?")], "the prompt ids are what generation feeds");
  assert.equal(ex.ids[0], tok.tokenToId("<|begin_of_text|>"));
  assert.equal(ex.ids[ex.ids.length - 1], tok.eot);
  assert.equal([...ex.ids].filter((id) => id === tok.eot).length, 2, "one <|eot_id|> ends the user turn, one the answer");
  assert.equal(tpl.decodeResponse(ex.ids.subarray(ex.promptLen)), "It is 4.");
  const T = ex.ids.length + 3;
  const b = D.packRows([ex], 1, T, tok.eot);
  const trained = [...b.targets].map((t, i) => (t === IGNORE_INDEX ? -1 : i)).filter((i) => i >= 0);
  assert.equal(trained[0], ex.promptLen - 1, "the first target is the first response token");
  assert.equal(b.tokens, ex.ids.length - ex.promptLen);
  assert.deepEqual(trained.map((i) => b.targets[i]), [...ex.ids.subarray(ex.promptLen)]);
});

test("chat - a template that does not write the end token gets it appended; one that reorders the prompt is refused", () => {
  const f = llama3Style();
  const cfg = JSON.parse(f.config);
  cfg.chat_template = "{% for m in messages %}<{{ m.role }}>{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}";
  const tok = D.tokenizerFromJson(enc(f.json), enc(cfg));
  const ex = D.templateFor(tok).encodeExample("hi", "yo");
  assert.equal(tok.decode(ex.ids), "<user>hi\n<assistant>yo\n<|eot_id|>");
  assert.equal(ex.ids[ex.ids.length - 1], tok.eot);
  cfg.chat_template = "{% if add_generation_prompt %}PROMPT {% endif %}{% for m in messages %}{{ m.content }}{% endfor %}";
  const bad = D.tokenizerFromJson(enc(f.json), enc(cfg));
  assert.throws(() => D.templateFor(bad).encodeExample("hi", "yo"), (e: unknown) => D.isTokenizerError(e) && /does not start with the prompt part/.test((e as Error).message));
  cfg.chat_template = "{% for m in messages %}";
  assert.throws(() => D.templateFor(D.tokenizerFromJson(enc(f.json), enc(cfg))), (e: unknown) => D.isTokenizerError(e) && /does not parse/.test((e as Error).message));
});

test("chat - a BPE token never straddles the prompt/response boundary: the parts are tokenized apart", () => {
  const f = gpt2Style();
  const tok = D.tokenizerFromJson(enc(f.json), enc(f.config));
  const tpl = D.templateFor(tok);
  assert.equal(tpl.kind, "plain");
  // joined, GPT-2's regex would cut "…A: 19" into "A", ":", " 19" — a token across the boundary
  assert.equal(tpl.straddles("12+7=", "19"), true);
  assert.equal(tpl.straddles("12+7=", " 19"), false);
  const joined = tok.encode(tpl.renderPrompt("12+7=") + "19");
  const ex = tpl.encodeExample("12+7=", "19");
  assert.notDeepEqual([...ex.ids.subarray(0, -1)], [...joined], "the example is not the joined tokenization");
  assert.deepEqual([...ex.ids.subarray(0, ex.promptLen)], [...tpl.encodePrompt("12+7=")]);
  assert.deepEqual([...ex.ids.subarray(ex.promptLen, -1)], [...tok.encode("19")]);
  assert.equal(tok.decode(ex.ids.subarray(0, ex.promptLen)), "Q: 12+7=\nA: ");
  assert.equal(tpl.decodeResponse(ex.ids.subarray(ex.promptLen)), "19");
  // the byte tokenizer cannot straddle
  assert.equal(D.chatTemplate({ tokenizer: D.byteTokenizer() }).straddles("12+7=", "19"), false);
  // the end token in a record is found with any tokenizer (lanes skip such records)
  assert.equal(tpl.containsEot("a<|endoftext|>b"), true);
  assert.equal(tpl.containsEot("a <|endoftext b"), false);
});
