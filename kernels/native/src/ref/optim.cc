// Naive reference kernels: optimizer updates (PyTorch 1.13 semantics, float32 arithmetic in the
// same order), dtype conversions, and a scalar FMA loop for the peak measurement.
// Legend: n element count.
#include <cmath>

#include "../core/cpu.h"
#include "../core/kernels.h"
#include "../core/math.h"
#include "ref.h"

namespace troupe::ref {

// param, m, v [n] updated in place from grad[n]
void adam_step(Ctx&, float* param, float* m, float* v, const float* grad, int64_t n,
               const AdamArgs& s) {
  const double bc1 = 1.0 - std::pow(s.beta1, static_cast<double>(s.step));
  const double bc2 = 1.0 - std::pow(s.beta2, static_cast<double>(s.step));
  const float step_size = static_cast<float>(s.lr / bc1);
  const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  const float decay = static_cast<float>(1.0 - s.lr * s.weight_decay);
  const float wd = static_cast<float>(s.weight_decay), eps = static_cast<float>(s.eps);
  const float b1 = static_cast<float>(s.beta1), b2 = static_cast<float>(s.beta2);
  const float omb1 = static_cast<float>(1.0 - s.beta1), omb2 = static_cast<float>(1.0 - s.beta2);
  for (int64_t i = 0; i < n; i++) {
    float g = grad[i];
    if (s.decoupled) {
      if (s.weight_decay != 0.0) param[i] = param[i] * decay;
    } else if (s.weight_decay != 0.0) {
      g = g + wd * param[i];
    }
    m[i] = m[i] * b1 + omb1 * g;
    v[i] = v[i] * b2 + omb2 * g * g;
    float denom = sqrtf(v[i]) / bc2_sqrt + eps;
    param[i] = param[i] + (-step_size) * (m[i] / denom);
  }
}

// param, buf [n] updated in place from grad[n]
void sgd_step(Ctx&, float* param, float* buf, const float* grad, int64_t n, const SgdArgs& s) {
  const float wd = static_cast<float>(s.weight_decay), mom = static_cast<float>(s.momentum);
  const float damp = static_cast<float>(1.0 - s.dampening), lr = static_cast<float>(s.lr);
  for (int64_t i = 0; i < n; i++) {
    float d = grad[i];
    if (s.weight_decay != 0.0) d = d + wd * param[i];
    if (s.momentum != 0.0) {
      buf[i] = s.first ? d : buf[i] * mom + damp * d;
      d = s.nesterov ? d + mom * buf[i] : buf[i];
    }
    param[i] = param[i] + (-lr) * d;
  }
}

void f32_to_f16(Ctx&, uint16_t* out, const float* inp, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = f32_to_f16_bits(inp[i]);
}
void f16_to_f32(Ctx&, float* out, const uint16_t* inp, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = f16_bits_to_f32(inp[i]);
}
void f32_to_bf16(Ctx&, uint16_t* out, const float* inp, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = f32_to_bf16_bits(inp[i]);
}
void bf16_to_f32(Ctx&, float* out, const uint16_t* inp, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = bf16_bits_to_f32(inp[i]);
}

// one thread, eight scalar dependency chains
double fma_peak(Ctx&, double seconds) {
  float acc[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  const float x = 0.999999f, y = 1e-7f;
  int64_t iters = 0;
  const double t0 = monotonic_seconds();
  double elapsed = 0.0;
  do {
    for (int r = 0; r < 4096; r++)
      for (int j = 0; j < 8; j++) acc[j] = std::fma(acc[j], x, y);
    iters += 4096;
    elapsed = monotonic_seconds() - t0;
  } while (elapsed < seconds);
  volatile float sink = acc[0] + acc[7];
  (void)sink;
  return 2.0 * 8.0 * static_cast<double>(iters) / elapsed / 1e9;
}

}  // namespace troupe::ref
