// Naive reference kernels: fused causal self-attention (llm.c attention_forward/backward).
// Legend: B batch, T time, C channels, H heads, hs head size (C/H).
#include <cmath>
#include <vector>

#include "../core/kernels.h"
#include "ref.h"

namespace troupe::ref {

// out[B,T,C], att[B,H,T,T] <- qkv[B,T,3C]
void attention_forward(Ctx&, float* out, float* att, const float* qkv, int B, int T, int C,
                       int H) {
  int hs = C / H;
  double scale = 1.0 / std::sqrt(static_cast<double>(hs));
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++)
      for (int t = 0; t < T; t++) {
        const float* q = qkv + (static_cast<int64_t>(b) * T + t) * 3 * C + h * hs;
        float* a = att + ((static_cast<int64_t>(b) * H + h) * T + t) * T;
        double mx = -INFINITY;
        for (int t2 = 0; t2 <= t; t2++) {
          const float* k = qkv + (static_cast<int64_t>(b) * T + t2) * 3 * C + C + h * hs;
          double dot = 0.0;
          for (int i = 0; i < hs; i++) dot += static_cast<double>(q[i]) * k[i];
          a[t2] = static_cast<float>(dot * scale);
          mx = std::fmax(mx, a[t2]);
        }
        double sum = 0.0;
        for (int t2 = 0; t2 <= t; t2++) sum += std::exp(a[t2] - mx);
        for (int t2 = 0; t2 < T; t2++)
          a[t2] = t2 <= t ? static_cast<float>(std::exp(a[t2] - mx) / sum) : 0.0f;
        float* o = out + (static_cast<int64_t>(b) * T + t) * C + h * hs;
        for (int i = 0; i < hs; i++) {
          double acc = 0.0;
          for (int t2 = 0; t2 <= t; t2++)
            acc += a[t2] * static_cast<double>(qkv[(static_cast<int64_t>(b) * T + t2) * 3 * C + 2 * C + h * hs + i]);
          o[i] = static_cast<float>(acc);
        }
      }
}

// dqkv[B,T,3C] += ... <- dout[B,T,C], qkv[B,T,3C], att[B,H,T,T]
// Each gradient element is one sum in double precision, rounded once when it is added.
void attention_backward(Ctx&, float* dqkv, const float* dout, const float* qkv, const float* att,
                        int B, int T, int C, int H) {
  int hs = C / H;
  double scale = 1.0 / std::sqrt(static_cast<double>(hs));
  auto row = [&](int b, int t) { return (static_cast<int64_t>(b) * T + t) * 3 * C; };
  std::vector<double> dpre(static_cast<size_t>(T) * T), acc(hs);
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++) {
      const float* A = att + (static_cast<int64_t>(b) * H + h) * T * T;
      // dpre[t][t2] = a * (datt - sum(a * datt)) * scale, datt[t][t2] = dout[t] · v[t2]
      for (int t = 0; t < T; t++) {
        const float* g = dout + (static_cast<int64_t>(b) * T + t) * C + h * hs;
        double sum = 0.0;
        for (int t2 = 0; t2 <= t; t2++) {
          const float* v = qkv + row(b, t2) + 2 * C + h * hs;
          double d = 0.0;
          for (int i = 0; i < hs; i++) d += static_cast<double>(g[i]) * v[i];
          dpre[static_cast<size_t>(t) * T + t2] = d;
          sum += A[t * T + t2] * d;
        }
        for (int t2 = 0; t2 <= t; t2++) {
          double& d = dpre[static_cast<size_t>(t) * T + t2];
          d = A[t * T + t2] * (d - sum) * scale;
        }
      }
      for (int t = 0; t < T; t++) {  // dq[t] = sum_t2 dpre[t][t2] k[t2]
        for (int i = 0; i < hs; i++) acc[i] = 0.0;
        for (int t2 = 0; t2 <= t; t2++) {
          const float* k = qkv + row(b, t2) + C + h * hs;
          for (int i = 0; i < hs; i++) acc[i] += dpre[static_cast<size_t>(t) * T + t2] * k[i];
        }
        float* dq = dqkv + row(b, t) + h * hs;
        for (int i = 0; i < hs; i++) dq[i] += static_cast<float>(acc[i]);
      }
      for (int t2 = 0; t2 < T; t2++) {  // dk[t2] = sum_t dpre[t][t2] q[t];  dv[t2] = sum_t a[t][t2] dout[t]
        for (int i = 0; i < hs; i++) acc[i] = 0.0;
        for (int t = t2; t < T; t++) {
          const float* q = qkv + row(b, t) + h * hs;
          for (int i = 0; i < hs; i++) acc[i] += dpre[static_cast<size_t>(t) * T + t2] * q[i];
        }
        float* dk = dqkv + row(b, t2) + C + h * hs;
        for (int i = 0; i < hs; i++) dk[i] += static_cast<float>(acc[i]);
        for (int i = 0; i < hs; i++) acc[i] = 0.0;
        for (int t = t2; t < T; t++) {
          const float* g = dout + (static_cast<int64_t>(b) * T + t) * C + h * hs;
          for (int i = 0; i < hs; i++) acc[i] += static_cast<double>(A[t * T + t2]) * g[i];
        }
        float* dv = dqkv + row(b, t2) + 2 * C + h * hs;
        for (int i = 0; i < hs; i++) dv[i] += static_cast<float>(acc[i]);
      }
    }
}

}  // namespace troupe::ref
