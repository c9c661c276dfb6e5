// Naive reference kernels: LayerNorm and RMSNorm over the last axis (llm.c layout).
// Legend: N rows, C channels.
#include <cmath>

#include "../core/kernels.h"
#include "ref.h"

namespace troupe::ref {

// out[N,C], mean[N], rstd[N] <- inp[N,C], weight[C], bias[C]
void layernorm_forward(Ctx&, float* out, float* mean, float* rstd, const float* inp,
                       const float* weight, const float* bias, int64_t N, int C, float eps) {
  for (int64_t r = 0; r < N; r++) {
    const float* x = inp + r * C;
    double m = 0.0;
    for (int c = 0; c < C; c++) m += x[c];
    m /= C;
    double v = 0.0;
    for (int c = 0; c < C; c++) v += (x[c] - m) * (x[c] - m);
    v /= C;
    float s = static_cast<float>(1.0 / std::sqrt(v + eps));
    for (int c = 0; c < C; c++) {
      float n = (x[c] - static_cast<float>(m)) * s;
      out[r * C + c] = n * weight[c] + bias[c];
    }
    mean[r] = static_cast<float>(m);
    rstd[r] = s;
  }
}

// dinp[N,C], dweight[C], dbias[C] += ... <- dout[N,C], inp[N,C], weight[C], mean[N], rstd[N]
void layernorm_backward(Ctx&, float* dinp, float* dweight, float* dbias, const float* dout,
                        const float* inp, const float* weight, const float* mean,
                        const float* rstd, int64_t N, int C) {
  for (int64_t r = 0; r < N; r++) {
    const float* x = inp + r * C;
    const float* g = dout + r * C;
    double dnorm_mean = 0.0, dnorm_norm_mean = 0.0;
    for (int c = 0; c < C; c++) {
      double n = (x[c] - mean[r]) * static_cast<double>(rstd[r]);
      double dn = static_cast<double>(weight[c]) * g[c];
      dnorm_mean += dn;
      dnorm_norm_mean += dn * n;
    }
    dnorm_mean /= C;
    dnorm_norm_mean /= C;
    for (int c = 0; c < C; c++) {
      double n = (x[c] - mean[r]) * static_cast<double>(rstd[r]);
      double dn = static_cast<double>(weight[c]) * g[c];
      if (dbias) dbias[c] += g[c];
      if (dweight) dweight[c] += static_cast<float>(n * g[c]);
      if (dinp) dinp[r * C + c] += static_cast<float>((dn - dnorm_mean - n * dnorm_norm_mean) * rstd[r]);
    }
  }
}

// out[N,C], rstd[N] <- inp[N,C], weight[C]
void rmsnorm_forward(Ctx&, float* out, float* rstd, const float* inp, const float* weight,
                     int64_t N, int C, float eps) {
  for (int64_t r = 0; r < N; r++) {
    const float* x = inp + r * C;
    double ms = 0.0;
    for (int c = 0; c < C; c++) ms += static_cast<double>(x[c]) * x[c];
    ms /= C;
    float s = static_cast<float>(1.0 / std::sqrt(ms + eps));
    for (int c = 0; c < C; c++) out[r * C + c] = x[c] * s * weight[c];
    rstd[r] = s;
  }
}

// dinp[N,C], dweight[C] += ... <- dout[N,C], inp[N,C], weight[C], rstd[N]
void rmsnorm_backward(Ctx&, float* dinp, float* dweight, const float* dout, const float* inp,
                      const float* weight, const float* rstd, int64_t N, int C) {
  for (int64_t r = 0; r < N; r++) {
    const float* x = inp + r * C;
    const float* g = dout + r * C;
    double s = rstd[r];
    double dot = 0.0;  // sum of dnorm * x
    for (int c = 0; c < C; c++) dot += static_cast<double>(weight[c]) * g[c] * x[c];
    for (int c = 0; c < C; c++) {
      double dn = static_cast<double>(weight[c]) * g[c];
      if (dweight) dweight[c] += static_cast<float>(g[c] * x[c] * s);
      if (dinp) dinp[r * C + c] += static_cast<float>(s * (dn - x[c] * s * s * dot / C));
    }
  }
}

}  // namespace troupe::ref
