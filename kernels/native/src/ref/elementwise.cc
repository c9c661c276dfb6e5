// Naive reference kernels: elementwise, row-broadcast, reductions, dropout, embedding.
// Scalar, single-threaded, written for clarity; the optimized kernels are tested against these.
// Legend: N rows, C channels, V classes, n element count, O,D,I outer/reduced/inner extents.
#include <cmath>

#include "../core/kernels.h"
#include "../core/math.h"
#include "ref.h"

namespace troupe::ref {

void fill(Ctx&, float* out, float value, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = value;
}

void axpy(Ctx&, float* y, float alpha, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

static float unary_value(float x, int op, float alpha) {
  switch (op) {
    case unary::kNeg: return -x;
    case unary::kExp: return expf(x);
    case unary::kLog: return logf(x);
    case unary::kTanh: return tanhf(x);
    case unary::kSigmoid: return sigmoidf(x);
    case unary::kRelu: return x > 0.0f || x != x ? x : 0.0f;  // NaN passes, as in PyTorch
    case unary::kSqrt: return sqrtf(x);
    case unary::kSquare: return x * x;
    case unary::kGelu: return gelu_tanh(x);
    case unary::kSilu: return x * sigmoidf(x);
    case unary::kScale: return alpha * x;
    case unary::kAddScalar: return x + alpha;
    case unary::kAbs: return fabsf(x);
    case unary::kPow: return powf(x, alpha);
  }
  return NAN;
}

// d out / d inp at one element (x = input, y = output)
float unary_grad(float x, float y, int op, float alpha) {
  switch (op) {
    case unary::kNeg: return -1.0f;
    case unary::kExp: return y;
    case unary::kLog: return 1.0f / x;
    case unary::kTanh: return 1.0f - y * y;
    case unary::kSigmoid: return y * (1.0f - y);
    case unary::kRelu: return x > 0.0f ? 1.0f : 0.0f;
    case unary::kSqrt: return 0.5f / y;
    case unary::kSquare: return 2.0f * x;
    case unary::kGelu: return gelu_tanh_grad(x);
    case unary::kSilu: {
      float s = sigmoidf(x);
      return s * (1.0f + x * (1.0f - s));
    }
    case unary::kScale: return alpha;
    case unary::kAddScalar: return 1.0f;
    case unary::kAbs: return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f);
    case unary::kPow: return alpha * powf(x, alpha - 1.0f);
  }
  return NAN;
}

void unary_forward(Ctx&, float* out, const float* inp, int64_t n, int op, float alpha) {
  for (int64_t i = 0; i < n; i++) out[i] = unary_value(inp[i], op, alpha);
}

void unary_backward(Ctx&, float* dinp, const float* dout, const float* inp, const float* out,
                    int64_t n, int op, float alpha) {
  for (int64_t i = 0; i < n; i++) dinp[i] += dout[i] * unary_grad(inp[i], out[i], op, alpha);
}

static float binary_value(float a, float b, int op) {
  switch (op) {
    case binary::kAdd: return a + b;
    case binary::kSub: return a - b;
    case binary::kMul: return a * b;
    case binary::kDiv: return a / b;
  }
  return NAN;
}

// partial derivatives of a op b, times the upstream gradient g
static void binary_grads(float g, float a, float b, int op, float* ga, float* gb) {
  switch (op) {
    case binary::kAdd: *ga = g; *gb = g; return;
    case binary::kSub: *ga = g; *gb = -g; return;
    case binary::kMul: *ga = g * b; *gb = g * a; return;
    case binary::kDiv: *ga = g / b; *gb = -g * a / (b * b); return;
  }
}

void binary_forward(Ctx&, float* out, const float* a, const float* b, int64_t n, int op) {
  for (int64_t i = 0; i < n; i++) out[i] = binary_value(a[i], b[i], op);
}

void binary_backward(Ctx&, float* da, float* db, const float* dout, const float* a,
                     const float* b, int64_t n, int op) {
  for (int64_t i = 0; i < n; i++) {
    float ga = 0.0f, gb = 0.0f;
    binary_grads(dout[i], a[i], b[i], op, &ga, &gb);
    if (da) da[i] += ga;
    if (db) db[i] += gb;
  }
}

void rowwise_forward(Ctx&, float* out, const float* a, const float* b, int64_t N, int C, int op) {
  for (int64_t r = 0; r < N; r++)
    for (int c = 0; c < C; c++) out[r * C + c] = binary_value(a[r * C + c], b[c], op);
}

void rowwise_backward(Ctx&, float* da, float* db, const float* dout, const float* a,
                      const float* b, int64_t N, int C, int op) {
  for (int c = 0; c < C; c++) {
    double acc = 0.0;
    for (int64_t r = 0; r < N; r++) {
      float ga = 0.0f, gb = 0.0f;
      binary_grads(dout[r * C + c], a[r * C + c], b[c], op, &ga, &gb);
      if (da) da[r * C + c] += ga;
      acc += gb;
    }
    if (db) db[c] += static_cast<float>(acc);
  }
}

void reduce_forward(Ctx&, float* out, int32_t* arg, const float* inp, int64_t O, int64_t D,
                    int64_t I, int op) {
  for (int64_t o = 0; o < O; o++) {
    for (int64_t i = 0; i < I; i++) {
      const float* p = inp + o * D * I + i;
      if (op == reduce::kMax) {
        // the first NaN is the max, as in PyTorch (a plain > never picks it)
        float best = p[0];
        int32_t at = 0;
        for (int64_t d = 1; d < D && best == best; d++) {
          const float v = p[d * I];
          if (v > best || v != v) {
            best = v;
            at = static_cast<int32_t>(d);
          }
        }
        out[o * I + i] = best;
        arg[o * I + i] = at;
      } else {
        double acc = 0.0;
        for (int64_t d = 0; d < D; d++) acc += p[d * I];
        out[o * I + i] = static_cast<float>(op == reduce::kMean ? acc / D : acc);
      }
    }
  }
}

void reduce_backward(Ctx&, float* dinp, const float* dout, const int32_t* arg, int64_t O,
                     int64_t D, int64_t I, int op) {
  for (int64_t o = 0; o < O; o++) {
    for (int64_t i = 0; i < I; i++) {
      float g = dout[o * I + i];
      float* p = dinp + o * D * I + i;
      if (op == reduce::kMax) {
        p[static_cast<int64_t>(arg[o * I + i]) * I] += g;
      } else {
        float s = op == reduce::kMean ? g / static_cast<float>(D) : g;
        for (int64_t d = 0; d < D; d++) p[d * I] += s;
      }
    }
  }
}

double sum_squares(Ctx&, const float* x, int64_t n) {
  double acc = 0.0;
  for (int64_t i = 0; i < n; i++) acc += static_cast<double>(x[i]) * x[i];
  return acc;
}

void dropout_forward(Ctx&, float* out, const float* inp, int64_t n, float p, uint64_t seed,
                     uint64_t offset) {
  float keep = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
  for (int64_t i = 0; i < n; i++)
    out[i] = hash_uniform(seed, offset + i) >= p ? inp[i] * keep : 0.0f;
}

void dropout_backward(Ctx&, float* dinp, const float* dout, int64_t n, float p, uint64_t seed,
                      uint64_t offset) {
  float keep = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
  for (int64_t i = 0; i < n; i++)
    if (hash_uniform(seed, offset + i) >= p) dinp[i] += dout[i] * keep;
}

void embedding_forward(Ctx&, float* out, const int32_t* idx, const float* table, int64_t N,
                       int C, int V) {
  for (int64_t r = 0; r < N; r++) {
    int32_t ix = idx[r];
    for (int c = 0; c < C; c++) out[r * C + c] = (ix >= 0 && ix < V) ? table[ix * C + c] : 0.0f;
  }
}

void embedding_backward(Ctx&, float* dtable, const float* dout, const int32_t* idx, int64_t N,
                        int C, int V) {
  for (int64_t r = 0; r < N; r++) {
    int32_t ix = idx[r];
    if (ix < 0 || ix >= V) continue;
    for (int c = 0; c < C; c++) dtable[ix * C + c] += dout[r * C + c];
  }
}

}  // namespace troupe::ref
