// Scalar formulas shared by the reference and the optimized kernels (header-only, internal
// linkage so each instruction-set build keeps its own copy).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace troupe {
namespace {

constexpr float kGeluScale = 0.7978845608028654f;  // sqrt(2/pi)
constexpr float kGeluCubic = 0.044715f;

inline float gelu_tanh(float x) {
  float u = kGeluScale * (x + kGeluCubic * x * x * x);
  return 0.5f * x * (1.0f + tanhf(u));
}

inline float gelu_tanh_grad(float x) {
  float u = kGeluScale * (x + kGeluCubic * x * x * x);
  float t = tanhf(u);
  float du = kGeluScale * (1.0f + 3.0f * kGeluCubic * x * x);
  return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du;
}

inline float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

inline uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Round-to-nearest-even f32 -> f16 (F. Giesen, float_to_half_fast3_rtne); NaN stays NaN.
inline uint16_t f32_to_f16_bits(float value) {
  uint32_t u = bits_of(value);
  uint32_t sign = u & 0x80000000u;
  u ^= sign;
  uint32_t o;
  if (u >= (127u + 16u) << 23) {
    o = u > (255u << 23) ? 0x7e00u : 0x7c00u;
  } else if (u < (113u << 23)) {
    const uint32_t magic = ((127u - 15u) + (23u - 10u) + 1u) << 23;
    o = bits_of(float_of(u) + float_of(magic)) - magic;
  } else {
    uint32_t odd = (u >> 13) & 1u;
    u += ((15u - 127u) << 23) + 0xfffu;
    u += odd;
    o = u >> 13;
  }
  return static_cast<uint16_t>(o | (sign >> 16));
}

inline float f16_bits_to_f32(uint16_t h) {
  const uint32_t shifted_exp = 0x7c00u << 13;
  uint32_t o = (static_cast<uint32_t>(h) & 0x7fffu) << 13;
  uint32_t exp = shifted_exp & o;
  o += (127u - 15u) << 23;
  if (exp == shifted_exp) {
    o += (128u - 16u) << 23;
  } else if (exp == 0) {
    o += 1u << 23;
    o = bits_of(float_of(o) - float_of(113u << 23));
  }
  return float_of(o | ((static_cast<uint32_t>(h) & 0x8000u) << 16));
}

// Round-to-nearest-even f32 -> bf16; NaN becomes a quiet NaN with the same sign.
inline uint16_t f32_to_bf16_bits(float value) {
  uint32_t u = bits_of(value);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

inline float bf16_bits_to_f32(uint16_t h) { return float_of(static_cast<uint32_t>(h) << 16); }

// Counter-based uniform in [0,1) for dropout: the same (seed, index) always gives the same
// number, whatever the thread that computes it.
inline float hash_uniform(uint64_t seed, uint64_t index) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ull * (index + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<float>(z >> 40) * (1.0f / 16777216.0f);
}

}  // namespace
}  // namespace troupe
