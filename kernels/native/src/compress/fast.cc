// Optimized compression kernels (compress.h): blocks and rows split over the pool, float
// arithmetic, the teacher's top-k scattered into a per-thread row instead of searched per
// class. Compiled once for the baseline instruction set (no intrinsics), so it runs the same
// on x86-64 and arm64. The quantisers compute exactly what the reference does (same float
// operations in the same order), so their bytes are equal, not just close.
#include <cmath>
#include <cstring>

#include "../core/math.h"
#include "../core/pool.h"
#include "compress.h"

namespace troupe::compress::fast {
namespace {

// f(lo, hi) over [0, n) in about `tasks` pieces of at least `grain` items
template <class F>
void split(Ctx& ctx, int64_t n, int64_t grain, F f) {
  int threads = ctx.pool->size();
  int64_t tasks = n / (grain > 0 ? grain : 1);
  if (tasks > threads * 4) tasks = threads * 4;
  if (tasks <= 1 || threads == 1) {
    f(int64_t(0), n, 0);
    return;
  }
  int64_t chunk = (n + tasks - 1) / tasks;
  auto body = [&](int64_t task, int thread) {
    int64_t lo = task * chunk, hi = lo + chunk < n ? lo + chunk : n;
    if (lo < hi) f(lo, hi, thread);
  };
  parallel_tasks(*ctx.pool, tasks, body);
}

inline void put_f16(uint8_t* p, float v) {
  uint16_t h = f32_to_f16_bits(v);
  p[0] = static_cast<uint8_t>(h & 0xff);
  p[1] = static_cast<uint8_t>(h >> 8);
}
inline float get_f16(const uint8_t* p) {
  return f16_bits_to_f32(static_cast<uint16_t>(p[0] | (p[1] << 8)));
}

inline float row_lse(const float* x, int V, float inv) {
  float mx = -INFINITY;
  for (int v = 0; v < V; v++) mx = x[v] * inv > mx ? x[v] * inv : mx;
  if (mx == -INFINITY) return mx;
  float s = 0.0f;
  for (int v = 0; v < V; v++) s += expf(x[v] * inv - mx);
  return mx + logf(s);
}

inline bool skip(const int32_t* targets, int64_t r, int V, int32_t ignore) {
  if (!targets) return false;
  int32_t t = targets[r];
  return t == ignore || t < 0 || t >= V;
}

}  // namespace

void quantize_q8_0(Ctx& ctx, uint8_t* out, const float* x, int64_t n) {
  split(ctx, n / kBlock, 256, [&](int64_t lo, int64_t hi, int) {
    for (int64_t b = lo; b < hi; b++) {
      const float* v = x + b * kBlock;
      uint8_t* o = out + b * kQ8Bytes;
      float amax = 0.0f;
      for (int j = 0; j < kBlock; j++) amax = std::fmax(amax, std::fabs(v[j]));
      const float d = amax / 127.0f;
      const float id = d != 0.0f ? 1.0f / d : 0.0f;
      put_f16(o, d);
      for (int j = 0; j < kBlock; j++) o[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(roundf(v[j] * id)));
    }
  });
}

void dequantize_q8_0(Ctx& ctx, float* out, const uint8_t* q, int64_t n) {
  split(ctx, n / kBlock, 512, [&](int64_t lo, int64_t hi, int) {
    for (int64_t b = lo; b < hi; b++) {
      const uint8_t* p = q + b * kQ8Bytes;
      const float d = get_f16(p);
      float* o = out + b * kBlock;
      for (int j = 0; j < kBlock; j++) o[j] = static_cast<int8_t>(p[2 + j]) * d;
    }
  });
}

void quantize_q4_0(Ctx& ctx, uint8_t* out, const float* x, int64_t n) {
  split(ctx, n / kBlock, 256, [&](int64_t lo, int64_t hi, int) {
    for (int64_t b = lo; b < hi; b++) {
      const float* v = x + b * kBlock;
      uint8_t* o = out + b * kQ4Bytes;
      float amax = 0.0f, max = 0.0f;
      for (int j = 0; j < kBlock; j++) {
        const float a = std::fabs(v[j]);
        if (amax < a) {
          amax = a;
          max = v[j];
        }
      }
      const float d = max / -8.0f;
      const float id = d != 0.0f ? 1.0f / d : 0.0f;
      put_f16(o, d);
      for (int j = 0; j < kBlock / 2; j++) {
        int q0 = static_cast<int8_t>(v[j] * id + 8.5f), q1 = static_cast<int8_t>(v[kBlock / 2 + j] * id + 8.5f);
        o[2 + j] = static_cast<uint8_t>((q0 < 15 ? q0 : 15) | ((q1 < 15 ? q1 : 15) << 4));
      }
    }
  });
}

void dequantize_q4_0(Ctx& ctx, float* out, const uint8_t* q, int64_t n) {
  split(ctx, n / kBlock, 512, [&](int64_t lo, int64_t hi, int) {
    for (int64_t b = lo; b < hi; b++) {
      const uint8_t* p = q + b * kQ4Bytes;
      const float d = get_f16(p);
      float* o = out + b * kBlock;
      for (int j = 0; j < kBlock / 2; j++) {
        o[j] = ((p[2 + j] & 0x0f) - 8) * d;
        o[kBlock / 2 + j] = ((p[2 + j] >> 4) - 8) * d;
      }
    }
  });
}

void kd_forward(Ctx& ctx, float* losses, float* saved, const float* student, const float* teacher,
                const int32_t* targets, int64_t N, int V, const KdArgs& a) {
  const float inv = 1.0f / a.temperature, T2 = a.temperature * a.temperature;
  split(ctx, N, 1 + 8192 / (V + 1), [&](int64_t lo, int64_t hi, int) {
    for (int64_t r = lo; r < hi; r++) {
      const float* s = student + r * V;
      const float* t = teacher + r * V;
      const float lsT = row_lse(s, V, inv), ls1 = row_lse(s, V, 1.0f), ltT = row_lse(t, V, inv);
      saved[3 * r] = lsT;
      saved[3 * r + 1] = ls1;
      saved[3 * r + 2] = ltT;
      if (skip(targets, r, V, a.ignore_index)) {
        losses[r] = 0.0f;
        continue;
      }
      float kl = 0.0f;
      for (int v = 0; v < V; v++) {
        const float logpt = t[v] * inv - ltT, pt = expf(logpt);
        kl += pt > 0.0f ? pt * (logpt - (s[v] * inv - lsT)) : 0.0f;
      }
      const float ce = targets ? ls1 - s[targets[r]] : 0.0f;
      losses[r] = a.alpha * T2 * kl + (1.0f - a.alpha) * ce;
    }
  });
}

void kd_backward(Ctx& ctx, float* dstudent, const float* dlosses, int64_t dstride, float scale,
                 const float* student, const float* teacher, const float* saved,
                 const int32_t* targets, int64_t N, int V, const KdArgs& a) {
  const float inv = 1.0f / a.temperature;
  split(ctx, N, 1 + 8192 / (V + 1), [&](int64_t lo, int64_t hi, int) {
    for (int64_t r = lo; r < hi; r++) {
      if (skip(targets, r, V, a.ignore_index)) continue;
      const float* s = student + r * V;
      const float* t = teacher + r * V;
      float* d = dstudent + r * V;
      const float g = dlosses[r * dstride] * scale;
      const float gk = g * a.alpha * a.temperature, gc = targets ? g * (1.0f - a.alpha) : 0.0f;
      const float lsT = saved[3 * r], ls1 = saved[3 * r + 1], ltT = saved[3 * r + 2];
      for (int v = 0; v < V; v++)
        d[v] += gk * (expf(s[v] * inv - lsT) - expf(t[v] * inv - ltT)) + gc * expf(s[v] - ls1);
      if (targets) d[targets[r]] -= gc;
    }
  });
}

void kd_topk_forward(Ctx& ctx, float* losses, float* saved, const float* student,
                     const int32_t* tidx, const float* tval, const int32_t* targets, int64_t N,
                     int V, int K, const KdArgs& a) {
  const float inv = 1.0f / a.temperature, T2 = a.temperature * a.temperature;
  split(ctx, N, 1 + 8192 / (V + 1), [&](int64_t lo, int64_t hi, int) {
    for (int64_t r = lo; r < hi; r++) {
      const float* s = student + r * V;
      const int32_t* ti = tidx + r * K;
      const float* tv = tval + r * K;
      const float lsT = row_lse(s, V, inv), ls1 = row_lse(s, V, 1.0f), ltT = row_lse(tv, K, inv);
      saved[3 * r] = lsT;
      saved[3 * r + 1] = ls1;
      saved[3 * r + 2] = ltT;
      if (skip(targets, r, V, a.ignore_index)) {
        losses[r] = 0.0f;
        continue;
      }
      float kl = 0.0f;
      for (int k = 0; k < K; k++) {
        const float logpt = tv[k] * inv - ltT, pt = expf(logpt);
        kl += pt > 0.0f ? pt * (logpt - (s[ti[k]] * inv - lsT)) : 0.0f;
      }
      const float ce = targets ? ls1 - s[targets[r]] : 0.0f;
      losses[r] = a.alpha * T2 * kl + (1.0f - a.alpha) * ce;
    }
  });
}

void kd_topk_backward(Ctx& ctx, float* dstudent, const float* dlosses, int64_t dstride,
                      float scale, const float* student, const int32_t* tidx, const float* tval,
                      const float* saved, const int32_t* targets, int64_t N, int V, int K,
                      const KdArgs& a) {
  const float inv = 1.0f / a.temperature;
  split(ctx, N, 1 + 8192 / (V + 1), [&](int64_t lo, int64_t hi, int) {
    for (int64_t r = lo; r < hi; r++) {
      if (skip(targets, r, V, a.ignore_index)) continue;
      const float* s = student + r * V;
      float* d = dstudent + r * V;
      const float g = dlosses[r * dstride] * scale;
      const float gk = g * a.alpha * a.temperature, gc = targets ? g * (1.0f - a.alpha) : 0.0f;
      const float lsT = saved[3 * r], ls1 = saved[3 * r + 1], ltT = saved[3 * r + 2];
      for (int v = 0; v < V; v++) d[v] += gk * expf(s[v] * inv - lsT) + gc * expf(s[v] - ls1);
      for (int k = 0; k < K; k++) d[tidx[r * K + k]] -= gk * expf(tval[r * K + k] * inv - ltT);
      if (targets) d[targets[r]] -= gc;
    }
  });
}

}  // namespace troupe::compress::fast
