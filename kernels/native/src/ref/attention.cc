// Naive reference kernels: fused causal self-attention (llm.c attention_forward/backward),
// saving the row log-sum-exp and recomputing the probabilities in backward.
// Legend: B batch, T time, C channels, H heads, hs head size (C/H).
#include <cmath>
#include <vector>

#include "../core/kernels.h"
#include "ref.h"

namespace troupe::ref {

namespace {

struct Head {
  const float* qkv;
  int b, h, T, C, hs;
  double scale;
  const float* q(int t) const { return qkv + (static_cast<int64_t>(b) * T + t) * 3 * C + h * hs; }
  const float* k(int t) const { return q(t) + C; }
  const float* v(int t) const { return q(t) + 2 * C; }
  double score(int t, int t2) const {
    double dot = 0.0;
    for (int i = 0; i < hs; i++) dot += static_cast<double>(q(t)[i]) * k(t2)[i];
    return dot * scale;
  }
};

}  // namespace

// out[B,T,C], lse[B,H,T], att[B,H,T,T] (optional) <- qkv[B,T,3C]
void attention_forward(Ctx&, float* out, float* lse, float* att, const float* qkv, int B, int T,
                       int C, int H) {
  const int hs = C / H;
  std::vector<double> p(T);
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++) {
      Head hd{qkv, b, h, T, C, hs, 1.0 / std::sqrt(static_cast<double>(hs))};
      for (int t = 0; t < T; t++) {
        double mx = -INFINITY;
        for (int t2 = 0; t2 <= t; t2++) {
          double z = p[t2] = hd.score(t, t2);
          mx = z > mx ? z : mx;  // not std::fmax: see row_lse in softmax.cc (GCC 12 aarch64 ICE)
        }
        double sum = 0.0;
        for (int t2 = 0; t2 <= t; t2++) sum += std::exp(p[t2] - mx);
        for (int t2 = 0; t2 <= t; t2++) p[t2] = std::exp(p[t2] - mx) / sum;
        lse[(static_cast<int64_t>(b) * H + h) * T + t] = static_cast<float>(mx + std::log(sum));
        if (att) {
          float* a = att + ((static_cast<int64_t>(b) * H + h) * T + t) * T;
          for (int t2 = 0; t2 < T; t2++) a[t2] = t2 <= t ? static_cast<float>(p[t2]) : 0.0f;
        }
        float* o = out + (static_cast<int64_t>(b) * T + t) * C + h * hs;
        for (int i = 0; i < hs; i++) {
          double acc = 0.0;
          for (int t2 = 0; t2 <= t; t2++) acc += p[t2] * hd.v(t2)[i];
          o[i] = static_cast<float>(acc);
        }
      }
    }
}

// dqkv[B,T,3C] += ... <- dout[B,T,C], qkv[B,T,3C], lse[B,H,T]
// Each gradient element is one sum in double precision, rounded once when it is added.
void attention_backward(Ctx&, float* dqkv, const float* dout, const float* qkv, const float* lse,
                        int B, int T, int C, int H) {
  const int hs = C / H;
  std::vector<double> P(static_cast<size_t>(T) * T), dS(static_cast<size_t>(T) * T), acc(hs);
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++) {
      Head hd{qkv, b, h, T, C, hs, 1.0 / std::sqrt(static_cast<double>(hs))};
      auto g = [&](int t) { return dout + (static_cast<int64_t>(b) * T + t) * C + h * hs; };
      auto grad = [&](int t, int part) { return dqkv + (static_cast<int64_t>(b) * T + t) * 3 * C + part * C + h * hs; };
      // P = exp(score - lse); dS = P * (dP - sum(P * dP)) * scale with dP[t][t2] = dout[t] · v[t2]
      for (int t = 0; t < T; t++) {
        const double l = lse[(static_cast<int64_t>(b) * H + h) * T + t];
        double sum = 0.0;
        for (int t2 = 0; t2 <= t; t2++) {
          double dp = 0.0;
          for (int i = 0; i < hs; i++) dp += static_cast<double>(g(t)[i]) * hd.v(t2)[i];
          P[static_cast<size_t>(t) * T + t2] = std::exp(hd.score(t, t2) - l);
          dS[static_cast<size_t>(t) * T + t2] = dp;
          sum += P[static_cast<size_t>(t) * T + t2] * dp;
        }
        for (int t2 = 0; t2 <= t; t2++) {
          const size_t at = static_cast<size_t>(t) * T + t2;
          dS[at] = P[at] * (dS[at] - sum) * hd.scale;
        }
      }
      for (int t = 0; t < T; t++) {  // dq[t] = sum_{t2 <= t} dS[t][t2] k[t2]
        for (int i = 0; i < hs; i++) acc[i] = 0.0;
        for (int t2 = 0; t2 <= t; t2++)
          for (int i = 0; i < hs; i++) acc[i] += dS[static_cast<size_t>(t) * T + t2] * hd.k(t2)[i];
        for (int i = 0; i < hs; i++) grad(t, 0)[i] += static_cast<float>(acc[i]);
      }
      for (int t2 = 0; t2 < T; t2++) {  // dk[t2] = sum_{t >= t2} dS[t][t2] q[t]
        for (int i = 0; i < hs; i++) acc[i] = 0.0;
        for (int t = t2; t < T; t++)
          for (int i = 0; i < hs; i++) acc[i] += dS[static_cast<size_t>(t) * T + t2] * hd.q(t)[i];
        for (int i = 0; i < hs; i++) grad(t2, 1)[i] += static_cast<float>(acc[i]);
        for (int i = 0; i < hs; i++) acc[i] = 0.0;  // dv[t2] = sum_{t >= t2} P[t][t2] dout[t]
        for (int t = t2; t < T; t++)
          for (int i = 0; i < hs; i++) acc[i] += P[static_cast<size_t>(t) * T + t2] * g(t)[i];
        for (int i = 0; i < hs; i++) grad(t2, 2)[i] += static_cast<float>(acc[i]);
      }
    }
}

}  // namespace troupe::ref
