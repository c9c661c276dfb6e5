#!/bin/sh
# Regenerates tests/models/fixtures/hf/ (Hugging Face-layout models and PEFT adapters of sizes and
# settings the shared fixtures do not cover) with scripts/dev/make_hf_fixture.py. Needs torch.
set -e
cd "$(dirname "$0")/../.."
py=/usr/bin/python3
out=tests/models/fixtures/hf
rm -rf "$out" && mkdir -p "$out"
gen() { echo "[fixture] $2" >&2; $py scripts/dev/make_hf_fixture.py "$@"; }
# multi-head (kv = heads), tied head, rope_theta 500000, odd vocab, a BF16 reference
gen model $out/llama-tied '{"arch":"llama","vocab_size":37,"hidden_size":24,"intermediate_size":40,"num_attention_heads":3,"num_key_value_heads":3,"num_hidden_layers":2,"max_position_embeddings":12,"rms_norm_eps":1e-6,"rope_theta":500000.0,"tie_word_embeddings":true,"batch":2,"seq":9,"seed":11,"bf16_reference":true}'
# grouped-query (6 heads, 2 kv heads), head size 6, 3 layers, linear rope scaling, F16 weights in 2 shards
gen model $out/llama-gqa '{"arch":"llama","vocab_size":53,"hidden_size":36,"intermediate_size":45,"num_attention_heads":6,"num_key_value_heads":2,"num_hidden_layers":3,"max_position_embeddings":16,"rms_norm_eps":1e-5,"rope_theta":1000.0,"rope_scaling":{"rope_type":"linear","factor":2.0},"tie_word_embeddings":false,"dtype":"F16","shards":2,"batch":2,"seq":11,"seed":31}'
# head_dim != hidden/heads, attention biases, llama3 rope scaling, BF16 weights
gen model $out/llama-bias '{"arch":"llama","vocab_size":29,"hidden_size":20,"intermediate_size":34,"num_attention_heads":4,"num_key_value_heads":2,"head_dim":6,"num_hidden_layers":2,"max_position_embeddings":10,"rms_norm_eps":1e-5,"rope_theta":10000.0,"rope_scaling":{"rope_type":"llama3","factor":4.0,"low_freq_factor":1.0,"high_freq_factor":2.0,"original_max_position_embeddings":4},"attention_bias":true,"tie_word_embeddings":false,"dtype":"BF16","batch":3,"seq":7,"seed":16}'
# GPT-2 as OpenAI's checkpoints store it: no "transformer." prefix, causal-mask buffers, tied
gen model $out/gpt2-odd '{"arch":"gpt2","vocab_size":41,"n_positions":11,"n_ctx":11,"n_embd":24,"n_head":3,"n_layer":2,"layer_norm_epsilon":1e-5,"activation_function":"gelu_new","tie_word_embeddings":true,"prefix":false,"buffers":true,"batch":2,"seq":10,"seed":14}'
# GPT-2 with its own head
gen model $out/gpt2-untied '{"arch":"gpt2","vocab_size":30,"n_positions":9,"n_embd":16,"n_head":2,"n_layer":3,"activation_function":"gelu_new","tie_word_embeddings":false,"batch":2,"seq":9,"seed":15}'
# adapters: LoRA on a GQA base (some attention, some MLP layers), DoRA on GPT-2's Conv1D layers,
# a regular-expression target_modules limited to one layer
gen adapter $out/llama-gqa-lora $out/llama-gqa '{"r":3,"lora_alpha":5,"target_modules":["k_proj","o_proj","gate_proj","up_proj"],"seed":21}'
gen adapter $out/gpt2-odd-dora $out/gpt2-odd '{"r":2,"lora_alpha":4,"target_modules":["c_attn","c_fc"],"use_dora":true,"seed":22}'
gen adapter $out/llama-tied-regex $out/llama-tied '{"r":4,"lora_alpha":8,"target_modules":".*\\.(q|v)_proj","layers_to_transform":[1],"seed":23}'
