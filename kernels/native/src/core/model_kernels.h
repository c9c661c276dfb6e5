// The kernel table of the decoder-architecture ops beyond the GPT's (Llama family): rotary
// position embeddings, the SwiGLU gate, and grouped-query causal attention that also serves
// KV-cached decoding. Every implementation (reference, portable, avx2, avx512) fills one; the
// main table (kernels.h) points at it. Pure C++ (no N-API). Forward and backward side by side,
// outputs first; backward kernels ACCUMULATE (+=) into their gradient outputs.
//
// Legend: N rows (B*T), B batch, T time, Tq query rows, Tk key rows, H query heads, KV key/value
// heads (H a multiple of KV: query head h reads key/value head h / (H/KV)), hs head size,
// h2 = hs/2, P positions in the rotary tables, n element count.
#pragma once
#include <cstdint>

namespace troupe {

struct Ctx;

struct ModelKernels {
  // Rotary embedding with Hugging Face's rotate_half convention, per head of x[N, H, hs] at
  // positions pos[N]: for i < h2, with c = cos[pos][i], s = sin[pos][i],
  //   out[i] = x[i]*c - x[i+h2]*s,   out[i+h2] = x[i+h2]*c + x[i]*s
  // cos/sin are [P, h2] tables; the backward is the inverse rotation.
  void (*rope_forward)(Ctx&, float* out, const float* inp, const int32_t* pos, const float* cos,
                       const float* sin, int64_t N, int H, int hs);
  void (*rope_backward)(Ctx&, float* dinp, const float* dout, const int32_t* pos,
                        const float* cos, const float* sin, int64_t N, int H, int hs);

  // SwiGLU's gate: out = silu(gate) * up elementwise over n.
  void (*swiglu_forward)(Ctx&, float* out, const float* gate, const float* up, int64_t n);
  void (*swiglu_backward)(Ctx&, float* dgate, float* dup, const float* dout, const float* gate,
                          const float* up, int64_t n);

  // Grouped-query causal attention, scale 1/sqrt(hs). q[B, Tq, H*hs] (contiguous); key/value
  // row r of batch b starts at k + b*kv_bstride + r*KV*hs (a contiguous [B, Tk, KV*hs] when
  // kv_bstride = Tk*KV*hs; a KV cache of capacity S when it is S*KV*hs). The Tq queries are
  // the last Tq positions: query t attends keys [start[b], Tk - Tq + t] (start null: from 0;
  // a row with no key gives 0 and lse -inf). out[B, Tq, H*hs], lse[B, H, Tq] (saved for the
  // backward, which recomputes the probabilities).
  void (*gqa_forward)(Ctx&, float* out, float* lse, const float* q, const float* k,
                      const float* v, const int32_t* start, int B, int Tq, int Tk, int H, int KV,
                      int hs, int64_t kv_bstride);
  // Training (Tq = Tk = T, contiguous, no start): dq[B,T,H*hs], dk/dv[B,T,KV*hs] += ...
  void (*gqa_backward)(Ctx&, float* dq, float* dk, float* dv, const float* dout, const float* q,
                       const float* k, const float* v, const float* lse, int B, int T, int H,
                       int KV, int hs);
};

const ModelKernels& reference_model_kernels();

}  // namespace troupe
