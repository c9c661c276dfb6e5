// Naive reference kernels: softmax / log-softmax and the losses built on them
// (cross-entropy with ignore index, KL with temperature, BCE with logits, cosine similarity).
// Legend: N rows, V classes, C channels, n element count.
#include <cmath>

#include "../core/kernels.h"
#include "ref.h"

namespace troupe::ref {

// A plain compare, not std::fmax: GCC 12 for aarch64 crashes (ICE in vect_transform_reduction)
// vectorizing an fmax reduction at -O3. Same result: a NaN never becomes the max either way.
static double row_lse(const float* x, int V, double scale) {
  double mx = -INFINITY;
  for (int v = 0; v < V; v++) {
    double z = x[v] * scale;
    mx = z > mx ? z : mx;
  }
  double s = 0.0;
  for (int v = 0; v < V; v++) s += std::exp(x[v] * scale - mx);
  return mx + std::log(s);
}

// out[N,V] <- inp[N,V]
void softmax_forward(Ctx&, float* out, const float* inp, int64_t N, int V, bool log) {
  for (int64_t r = 0; r < N; r++) {
    double lse = row_lse(inp + r * V, V, 1.0);
    for (int v = 0; v < V; v++) {
      double z = inp[r * V + v] - lse;
      out[r * V + v] = static_cast<float>(log ? z : std::exp(z));
    }
  }
}

// dinp[N,V] += ... <- dout[N,V], out[N,V]
void softmax_backward(Ctx&, float* dinp, const float* dout, const float* out, int64_t N, int V,
                      bool log) {
  for (int64_t r = 0; r < N; r++) {
    const float* y = out + r * V;
    const float* g = dout + r * V;
    double s = 0.0;
    for (int v = 0; v < V; v++) s += log ? g[v] : static_cast<double>(g[v]) * y[v];
    for (int v = 0; v < V; v++) {
      double d = log ? g[v] - std::exp(static_cast<double>(y[v])) * s : y[v] * (g[v] - s);
      dinp[r * V + v] += static_cast<float>(d);
    }
  }
}

// losses[N], lse[N] <- logits[N,V], targets[N]
void crossentropy_forward(Ctx&, float* losses, float* lse, const float* logits,
                          const int32_t* targets, int64_t N, int V, int32_t ignore_index) {
  for (int64_t r = 0; r < N; r++) {
    double l = row_lse(logits + r * V, V, 1.0);
    lse[r] = static_cast<float>(l);
    int32_t t = targets[r];
    losses[r] = (t == ignore_index || t < 0 || t >= V) ? 0.0f
                                                        : static_cast<float>(l - logits[r * V + t]);
  }
}

// dlogits[N,V] += g[r] * (softmax - onehot) <- dlosses, logits[N,V], lse[N], targets[N]
void crossentropy_backward(Ctx&, float* dlogits, const float* dlosses, int64_t dstride,
                           float scale, const float* logits, const float* lse,
                           const int32_t* targets, int64_t N, int V, int32_t ignore_index) {
  for (int64_t r = 0; r < N; r++) {
    int32_t t = targets[r];
    if (t == ignore_index || t < 0 || t >= V) continue;
    double g = static_cast<double>(dlosses[r * dstride]) * scale;
    for (int v = 0; v < V; v++) {
      double p = std::exp(static_cast<double>(logits[r * V + v]) - lse[r]);
      dlogits[r * V + v] += static_cast<float>(g * (p - (v == t ? 1.0 : 0.0)));
    }
  }
}

// losses[N] <- student[N,V], teacher[N,V]: KL(softmax(t/T) || softmax(s/T))
void kl_forward(Ctx&, float* losses, const float* student, const float* teacher, int64_t N, int V,
                float temperature) {
  double inv = 1.0 / temperature;
  for (int64_t r = 0; r < N; r++) {
    const float* s = student + r * V;
    const float* t = teacher + r * V;
    double ls = row_lse(s, V, inv), lt = row_lse(t, V, inv);
    double kl = 0.0;
    for (int v = 0; v < V; v++) {
      double logpt = t[v] * inv - lt, logps = s[v] * inv - ls;
      double pt = std::exp(logpt);
      if (pt != 0.0) kl += pt * (logpt - logps);  // 0 log 0 = 0; a NaN is kept
    }
    losses[r] = static_cast<float>(kl);
  }
}

// dstudent[N,V] += g[r] * (softmax(s/T) - softmax(t/T)) / T
void kl_backward(Ctx&, float* dstudent, const float* dlosses, int64_t dstride, float scale,
                 const float* student, const float* teacher, int64_t N, int V,
                 float temperature) {
  double inv = 1.0 / temperature;
  for (int64_t r = 0; r < N; r++) {
    const float* s = student + r * V;
    const float* t = teacher + r * V;
    double ls = row_lse(s, V, inv), lt = row_lse(t, V, inv);
    double g = static_cast<double>(dlosses[r * dstride]) * scale;
    for (int v = 0; v < V; v++) {
      double ps = std::exp(s[v] * inv - ls), pt = std::exp(t[v] * inv - lt);
      dstudent[r * V + v] += static_cast<float>(g * (ps - pt) * inv);
    }
  }
}

// losses[n] <- logits[n], targets[n]
void bce_forward(Ctx&, float* losses, const float* logits, const float* targets, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    double x = logits[i], y = targets[i];
    losses[i] = static_cast<float>(std::fmax(x, 0.0) - x * y + std::log1p(std::exp(-std::fabs(x))));
  }
}

// dlogits[n] += g[i] * (sigmoid(x) - y)
void bce_backward(Ctx&, float* dlogits, const float* dlosses, int64_t dstride, float scale,
                  const float* logits, const float* targets, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    double g = static_cast<double>(dlosses[i * dstride]) * scale;
    double p = 1.0 / (1.0 + std::exp(-static_cast<double>(logits[i])));
    dlogits[i] += static_cast<float>(g * (p - targets[i]));
  }
}

// out[N], saved[3N] <- a[N,C], b[N,C]: (a / max(|a|, eps)) · (b / max(|b|, eps)), as torch 1.13
void cosine_forward(Ctx&, float* out, float* saved, const float* a, const float* b, int64_t N,
                    int C, float eps) {
  for (int64_t r = 0; r < N; r++) {
    double w12 = 0.0, w1 = 0.0, w2 = 0.0;
    for (int c = 0; c < C; c++) {
      double x = a[r * C + c], y = b[r * C + c];
      w12 += x * y;
      w1 += x * x;
      w2 += y * y;
    }
    double na = std::fmax(std::sqrt(w1), eps), nb = std::fmax(std::sqrt(w2), eps);
    out[r] = static_cast<float>(w12 / (na * nb));
    saved[3 * r] = static_cast<float>(w12);
    saved[3 * r + 1] = static_cast<float>(w1);
    saved[3 * r + 2] = static_cast<float>(w2);
  }
}

// da[N,C], db[N,C] += ... <- dout[N], a, b, saved[3N]; a clamped norm is a constant
void cosine_backward(Ctx&, float* da, float* db, const float* dout, const float* a,
                     const float* b, const float* saved, int64_t N, int C, float eps) {
  for (int64_t r = 0; r < N; r++) {
    double w12 = saved[3 * r], w1 = saved[3 * r + 1], w2 = saved[3 * r + 2];
    double la = std::sqrt(w1), lb = std::sqrt(w2);
    double na = std::fmax(la, eps), nb = std::fmax(lb, eps);
    double cos = w12 / (na * nb), g = dout[r];
    double ka = la > eps ? cos / w1 : 0.0, kb = lb > eps ? cos / w2 : 0.0;
    for (int c = 0; c < C; c++) {
      double x = a[r * C + c], y = b[r * C + c];
      if (da) da[r * C + c] += static_cast<float>(g * (y / (na * nb) - ka * x));
      if (db) db[r * C + c] += static_cast<float>(g * (x / (na * nb) - kb * y));
    }
  }
}

}  // namespace troupe::ref
