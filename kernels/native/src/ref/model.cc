// Naive reference kernels of the Llama-family ops (core/model_kernels.h): rotary embeddings,
// the SwiGLU gate and grouped-query causal attention, in plain loops with double accumulators.
// They are the ground truth the optimized kernels (fast/model.inc, fast/gqa.inc) are tested
// against in every mode.
// Legend: N rows, B batch, Tq/Tk query/key rows, H query heads, KV key/value heads, hs head
// size, h2 = hs/2, n element count.
#include <algorithm>
#include <cmath>
#include <vector>

#include "../core/kernels.h"
#include "../core/model_kernels.h"

namespace troupe::ref {

namespace {

// out[N,H,hs] <- inp rotated by +angle (sign +1) or -angle (sign -1); accumulate: out +=
void rotate(float* out, const float* inp, const int32_t* pos, const float* cos, const float* sin,
            int64_t N, int H, int hs, double sign, bool accumulate) {
  const int h2 = hs / 2;
  for (int64_t r = 0; r < N; r++) {
    const float* c = cos + static_cast<int64_t>(pos[r]) * h2;
    const float* s = sin + static_cast<int64_t>(pos[r]) * h2;
    for (int h = 0; h < H; h++) {
      const float* x = inp + (r * H + h) * hs;
      float* y = out + (r * H + h) * hs;
      for (int i = 0; i < h2; i++) {
        const double lo = static_cast<double>(x[i]) * c[i] - sign * static_cast<double>(x[i + h2]) * s[i];
        const double hi = static_cast<double>(x[i + h2]) * c[i] + sign * static_cast<double>(x[i]) * s[i];
        y[i] = accumulate ? y[i] + static_cast<float>(lo) : static_cast<float>(lo);
        y[i + h2] = accumulate ? y[i + h2] + static_cast<float>(hi) : static_cast<float>(hi);
      }
    }
  }
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace

// out[N,H,hs] <- inp[N,H,hs], pos[N], cos/sin[P,h2]
void rope_forward(Ctx&, float* out, const float* inp, const int32_t* pos, const float* cos,
                  const float* sin, int64_t N, int H, int hs) {
  rotate(out, inp, pos, cos, sin, N, H, hs, 1.0, false);
}

// dinp[N,H,hs] += R(-angle) dout
void rope_backward(Ctx&, float* dinp, const float* dout, const int32_t* pos, const float* cos,
                   const float* sin, int64_t N, int H, int hs) {
  rotate(dinp, dout, pos, cos, sin, N, H, hs, -1.0, true);
}

// out[n] = silu(gate) * up
void swiglu_forward(Ctx&, float* out, const float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const double g = gate[i];
    out[i] = static_cast<float>(g * sigmoid(g) * up[i]);
  }
}

// dgate[n], dup[n] += ... (either may be null)
void swiglu_backward(Ctx&, float* dgate, float* dup, const float* dout, const float* gate,
                     const float* up, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const double g = gate[i], s = sigmoid(g);
    if (dgate) dgate[i] += static_cast<float>(static_cast<double>(dout[i]) * up[i] * s * (1.0 + g * (1.0 - s)));
    if (dup) dup[i] += static_cast<float>(static_cast<double>(dout[i]) * g * s);
  }
}

namespace {

struct Gqa {
  const float *q, *k, *v;
  int Tq, Tk, H, KV, hs;
  int64_t kv_bstride;
  double scale;
  const float* qrow(int b, int t, int h) const { return q + ((static_cast<int64_t>(b) * Tq + t) * H + h) * hs; }
  int64_t kv_off(int b, int r, int h) const {
    return b * kv_bstride + (static_cast<int64_t>(r) * KV + h / (H / KV)) * hs;
  }
  double score(int b, int t, int h, int j) const {
    const float* qr = qrow(b, t, h);
    const float* kr = k + kv_off(b, j, h);
    double dot = 0.0;
    for (int i = 0; i < hs; i++) dot += static_cast<double>(qr[i]) * kr[i];
    return dot * scale;
  }
};

}  // namespace

// out[B,Tq,H*hs], lse[B,H,Tq] <- q, k, v (see model_kernels.h)
void gqa_forward(Ctx&, float* out, float* lse, const float* q, const float* k, const float* v,
                 const int32_t* start, int B, int Tq, int Tk, int H, int KV, int hs,
                 int64_t kv_bstride) {
  Gqa g{q, k, v, Tq, Tk, H, KV, hs, kv_bstride, 1.0 / std::sqrt(static_cast<double>(hs))};
  std::vector<double> p(Tk > 0 ? Tk : 1);
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++)
      for (int t = 0; t < Tq; t++) {
        const int lo = start ? start[b] : 0, hi = Tk - Tq + t;  // keys [lo, hi]
        float* o = out + ((static_cast<int64_t>(b) * Tq + t) * H + h) * hs;
        float& l = lse[(static_cast<int64_t>(b) * H + h) * Tq + t];
        if (hi < lo) {
          for (int i = 0; i < hs; i++) o[i] = 0.0f;
          l = -INFINITY;
          continue;
        }
        double mx = -INFINITY;
        for (int j = lo; j <= hi; j++) {
          p[j] = g.score(b, t, h, j);
          mx = p[j] > mx ? p[j] : mx;  // not std::fmax (GCC 12 aarch64, see softmax.cc)
        }
        double sum = 0.0;
        for (int j = lo; j <= hi; j++) sum += std::exp(p[j] - mx);
        for (int i = 0; i < hs; i++) {
          double acc = 0.0;
          for (int j = lo; j <= hi; j++) acc += std::exp(p[j] - mx) / sum * v[g.kv_off(b, j, h) + i];
          o[i] = static_cast<float>(acc);
        }
        l = static_cast<float>(mx + std::log(sum));
      }
}

// dq[B,T,H*hs], dk[B,T,KV*hs], dv[B,T,KV*hs] += ... <- dout[B,T,H*hs], q, k, v, lse[B,H,T]
// Each gradient element is one sum in double precision, rounded once when it is added.
void gqa_backward(Ctx&, float* dq, float* dk, float* dv, const float* dout, const float* q,
                  const float* k, const float* v, const float* lse, int B, int T, int H, int KV,
                  int hs) {
  Gqa g{q, k, v, T, T, H, KV, hs, static_cast<int64_t>(T) * KV * hs,
        1.0 / std::sqrt(static_cast<double>(hs))};
  const size_t TT = static_cast<size_t>(T) * T;
  std::vector<double> P(TT), dS(TT), acc(hs);
  std::vector<double> dK(static_cast<size_t>(T) * KV * hs), dV(static_cast<size_t>(T) * KV * hs);
  for (int b = 0; b < B; b++) {
    std::fill(dK.begin(), dK.end(), 0.0);
    std::fill(dV.begin(), dV.end(), 0.0);
    for (int h = 0; h < H; h++) {
      const int kvh = h / (H / KV);
      auto gout = [&](int t) { return dout + ((static_cast<int64_t>(b) * T + t) * H + h) * hs; };
      for (int t = 0; t < T; t++) {  // P, then dS = P * (dP - sum(P * dP)) * scale
        const double l = lse[(static_cast<int64_t>(b) * H + h) * T + t];
        double sum = 0.0;
        for (int j = 0; j <= t; j++) {
          double dp = 0.0;
          const float* vr = v + g.kv_off(b, j, h);
          for (int i = 0; i < hs; i++) dp += static_cast<double>(gout(t)[i]) * vr[i];
          P[static_cast<size_t>(t) * T + j] = std::exp(g.score(b, t, h, j) - l);
          dS[static_cast<size_t>(t) * T + j] = dp;
          sum += P[static_cast<size_t>(t) * T + j] * dp;
        }
        for (int j = 0; j <= t; j++) {
          const size_t at = static_cast<size_t>(t) * T + j;
          dS[at] = P[at] * (dS[at] - sum) * g.scale;
        }
      }
      for (int t = 0; t < T; t++) {  // dq[t] = sum_{j <= t} dS[t][j] k[j]
        for (int i = 0; i < hs; i++) acc[i] = 0.0;
        for (int j = 0; j <= t; j++)
          for (int i = 0; i < hs; i++) acc[i] += dS[static_cast<size_t>(t) * T + j] * k[g.kv_off(b, j, h) + i];
        float* d = dq + ((static_cast<int64_t>(b) * T + t) * H + h) * hs;
        for (int i = 0; i < hs; i++) d[i] += static_cast<float>(acc[i]);
      }
      for (int j = 0; j < T; j++)  // dk[j] += sum_{t >= j} dS[t][j] q[t]; dv[j] += P[t][j] dout[t]
        for (int t = j; t < T; t++)
          for (int i = 0; i < hs; i++) {
            dK[(static_cast<size_t>(j) * KV + kvh) * hs + i] += dS[static_cast<size_t>(t) * T + j] * g.qrow(b, t, h)[i];
            dV[(static_cast<size_t>(j) * KV + kvh) * hs + i] += P[static_cast<size_t>(t) * T + j] * gout(t)[i];
          }
    }
    for (size_t i = 0; i < dK.size(); i++) {
      dk[static_cast<int64_t>(b) * T * KV * hs + i] += static_cast<float>(dK[i]);
      dv[static_cast<int64_t>(b) * T * KV * hs + i] += static_cast<float>(dV[i]);
    }
  }
}

}  // namespace troupe::ref

namespace troupe {

const ModelKernels& reference_model_kernels() {
  static const ModelKernels table = {
      ref::rope_forward,  ref::rope_backward, ref::swiglu_forward,
      ref::swiglu_backward, ref::gqa_forward, ref::gqa_backward,
  };
  return table;
}

}  // namespace troupe
