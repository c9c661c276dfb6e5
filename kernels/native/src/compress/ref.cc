// Naive reference twins of the compression kernels (compress.h): one block or row at a time,
// sums in double. The quantisers follow ggml's quantize_row_q8_0_ref / quantize_row_q4_0_ref
// step for step (the scale rounded to f16 is stored; the quants use the unrounded 1/d).
#include <cmath>
#include <cstring>

#include "../core/math.h"
#include "compress.h"

namespace troupe::compress::ref {

static void put_f16(uint8_t* p, float v) {
  uint16_t h = f32_to_f16_bits(v);
  p[0] = static_cast<uint8_t>(h & 0xff);
  p[1] = static_cast<uint8_t>(h >> 8);
}
static float get_f16(const uint8_t* p) {
  return f16_bits_to_f32(static_cast<uint16_t>(p[0] | (p[1] << 8)));
}

// out[n/32 * 34] <- x[n]
void quantize_q8_0(Ctx&, uint8_t* out, const float* x, int64_t n) {
  for (int64_t b = 0; b < n / kBlock; b++) {
    const float* v = x + b * kBlock;
    uint8_t* o = out + b * kQ8Bytes;
    float amax = 0.0f;
    for (int j = 0; j < kBlock; j++) amax = std::fmax(amax, std::fabs(v[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    put_f16(o, d);
    for (int j = 0; j < kBlock; j++) o[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(std::round(v[j] * id)));
  }
}

// out[n] <- q[n/32 * 34]
void dequantize_q8_0(Ctx&, float* out, const uint8_t* q, int64_t n) {
  for (int64_t b = 0; b < n / kBlock; b++) {
    const uint8_t* p = q + b * kQ8Bytes;
    const float d = get_f16(p);
    for (int j = 0; j < kBlock; j++) out[b * kBlock + j] = static_cast<int8_t>(p[2 + j]) * d;
  }
}

// out[n/32 * 18] <- x[n]
void quantize_q4_0(Ctx&, uint8_t* out, const float* x, int64_t n) {
  for (int64_t b = 0; b < n / kBlock; b++) {
    const float* v = x + b * kBlock;
    uint8_t* o = out + b * kQ4Bytes;
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kBlock; j++) {
      if (amax < std::fabs(v[j])) {
        amax = std::fabs(v[j]);
        max = v[j];
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    put_f16(o, d);
    for (int j = 0; j < kBlock / 2; j++) {
      const float x0 = v[j] * id, x1 = v[kBlock / 2 + j] * id;
      int q0 = static_cast<int8_t>(x0 + 8.5f), q1 = static_cast<int8_t>(x1 + 8.5f);
      q0 = q0 < 15 ? q0 : 15;
      q1 = q1 < 15 ? q1 : 15;
      o[2 + j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

// out[n] <- q[n/32 * 18]
void dequantize_q4_0(Ctx&, float* out, const uint8_t* q, int64_t n) {
  for (int64_t b = 0; b < n / kBlock; b++) {
    const uint8_t* p = q + b * kQ4Bytes;
    const float d = get_f16(p);
    for (int j = 0; j < kBlock / 2; j++) {
      out[b * kBlock + j] = ((p[2 + j] & 0x0f) - 8) * d;
      out[b * kBlock + kBlock / 2 + j] = ((p[2 + j] >> 4) - 8) * d;
    }
  }
}

static double lse(const float* x, int V, double inv) {
  double mx = -INFINITY;
  for (int v = 0; v < V; v++) mx = x[v] * inv > mx ? x[v] * inv : mx;
  if (mx == -INFINITY) return mx;
  double s = 0.0;
  for (int v = 0; v < V; v++) s += std::exp(x[v] * inv - mx);
  return mx + std::log(s);
}

static bool skip(const int32_t* targets, int64_t r, int V, int32_t ignore) {
  if (!targets) return false;
  int32_t t = targets[r];
  return t == ignore || t < 0 || t >= V;
}

// losses[N], saved[3N] <- student[N,V], teacher[N,V], targets[N]|null
void kd_forward(Ctx&, float* losses, float* saved, const float* student, const float* teacher,
                const int32_t* targets, int64_t N, int V, const KdArgs& a) {
  const double inv = 1.0 / a.temperature, T2 = static_cast<double>(a.temperature) * a.temperature;
  for (int64_t r = 0; r < N; r++) {
    const float* s = student + r * V;
    const float* t = teacher + r * V;
    double lsT = lse(s, V, inv), ls1 = lse(s, V, 1.0), ltT = lse(t, V, inv);
    saved[3 * r] = static_cast<float>(lsT);
    saved[3 * r + 1] = static_cast<float>(ls1);
    saved[3 * r + 2] = static_cast<float>(ltT);
    if (skip(targets, r, V, a.ignore_index)) {
      losses[r] = 0.0f;
      continue;
    }
    double kl = 0.0;
    for (int v = 0; v < V; v++) {
      double logpt = t[v] * inv - ltT, pt = std::exp(logpt);
      if (pt > 0.0) kl += pt * (logpt - (s[v] * inv - lsT));
    }
    double ce = targets ? ls1 - s[targets[r]] : 0.0;
    losses[r] = static_cast<float>(a.alpha * T2 * kl + (1.0 - a.alpha) * ce);
  }
}

// dstudent[N,V] += g[r] · (alpha·T·(p_s − p_t) + (1 − alpha)·(softmax(s) − onehot))
void kd_backward(Ctx&, float* dstudent, const float* dlosses, int64_t dstride, float scale,
                 const float* student, const float* teacher, const float* saved,
                 const int32_t* targets, int64_t N, int V, const KdArgs& a) {
  const double inv = 1.0 / a.temperature, T = a.temperature;
  for (int64_t r = 0; r < N; r++) {
    if (skip(targets, r, V, a.ignore_index)) continue;
    const float* s = student + r * V;
    const float* t = teacher + r * V;
    const double g = static_cast<double>(dlosses[r * dstride]) * scale;
    const double lsT = saved[3 * r], ls1 = saved[3 * r + 1], ltT = saved[3 * r + 2];
    for (int v = 0; v < V; v++) {
      double psT = std::exp(s[v] * inv - lsT), ptT = std::exp(t[v] * inv - ltT);
      double d = a.alpha * T * (psT - ptT);
      if (targets) d += (1.0 - a.alpha) * (std::exp(s[v] - ls1) - (v == targets[r] ? 1.0 : 0.0));
      dstudent[r * V + v] += static_cast<float>(g * d);
    }
  }
}

// losses[N], saved[3N] <- student[N,V], tidx[N,K], tval[N,K], targets[N]|null
void kd_topk_forward(Ctx&, float* losses, float* saved, const float* student,
                     const int32_t* tidx, const float* tval, const int32_t* targets, int64_t N,
                     int V, int K, const KdArgs& a) {
  const double inv = 1.0 / a.temperature, T2 = static_cast<double>(a.temperature) * a.temperature;
  for (int64_t r = 0; r < N; r++) {
    const float* s = student + r * V;
    const int32_t* ti = tidx + r * K;
    const float* tv = tval + r * K;
    double lsT = lse(s, V, inv), ls1 = lse(s, V, 1.0), ltT = lse(tv, K, inv);
    saved[3 * r] = static_cast<float>(lsT);
    saved[3 * r + 1] = static_cast<float>(ls1);
    saved[3 * r + 2] = static_cast<float>(ltT);
    if (skip(targets, r, V, a.ignore_index)) {
      losses[r] = 0.0f;
      continue;
    }
    double kl = 0.0;
    for (int k = 0; k < K; k++) {
      double logpt = tv[k] * inv - ltT, pt = std::exp(logpt);
      if (pt > 0.0) kl += pt * (logpt - (s[ti[k]] * inv - lsT));
    }
    double ce = targets ? ls1 - s[targets[r]] : 0.0;
    losses[r] = static_cast<float>(a.alpha * T2 * kl + (1.0 - a.alpha) * ce);
  }
}

// dstudent[N,V] += g[r] · (alpha·T·(p_s − p_t) + (1 − alpha)·(softmax(s) − onehot)), p_t top-k
void kd_topk_backward(Ctx&, float* dstudent, const float* dlosses, int64_t dstride, float scale,
                      const float* student, const int32_t* tidx, const float* tval,
                      const float* saved, const int32_t* targets, int64_t N, int V, int K,
                      const KdArgs& a) {
  const double inv = 1.0 / a.temperature, T = a.temperature;
  for (int64_t r = 0; r < N; r++) {
    if (skip(targets, r, V, a.ignore_index)) continue;
    const float* s = student + r * V;
    const double g = static_cast<double>(dlosses[r * dstride]) * scale;
    const double lsT = saved[3 * r], ls1 = saved[3 * r + 1], ltT = saved[3 * r + 2];
    for (int v = 0; v < V; v++) {
      double ptT = 0.0;
      for (int k = 0; k < K; k++)
        if (tidx[r * K + k] == v) ptT = std::exp(tval[r * K + k] * inv - ltT);
      double d = a.alpha * T * (std::exp(s[v] * inv - lsT) - ptT);
      if (targets) d += (1.0 - a.alpha) * (std::exp(s[v] - ls1) - (v == targets[r] ? 1.0 : 0.0));
      dstudent[r * V + v] += static_cast<float>(g * d);
    }
  }
}

}  // namespace troupe::compress::ref
