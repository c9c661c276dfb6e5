// Thin binding: GEMM, linear, elementwise, strided and reduction kernels. Arity and types
// only; sizes are validated with friendly messages by the TypeScript wrappers.
// Legend: M,N,K matrix sizes, N rows, C in channels, OC out channels, n element count,
// O,D,I outer/reduced/inner extents.
#include "../ops/composite.h"
#include "../ops/gemm.h"
#include "args.h"

namespace troupe {
namespace {

using Info = Napi::CallbackInfo;

// gemm(c, a, b, batch, M, N, K, ta, tb, alpha, beta)
Napi::Value Gemm(const Info& info) {
  Args a(info, "gemm", 11);
  int64_t batch = a.size(3);
  int M = a.dim(4), N = a.dim(5), K = a.dim(6);
  float* c = a.f32(0, batch * M * N);
  const float* x = a.f32(1, batch * M * K);
  const float* y = a.f32(2, batch * K * N);
  a.check(batch <= 2147483647, "batch is too large");
  gemm_batched(a.ctx(), c, x, y, static_cast<int>(batch), M, N, K, a.flag(7), a.flag(8),
               static_cast<float>(a.num(9)), static_cast<float>(a.num(10)));
  return info.Env().Undefined();
}

// linearForward(out, inp, weight, bias|null, N, C, OC)
Napi::Value LinearForward(const Info& info) {
  Args a(info, "linearForward", 7);
  int N = a.dim(4), C = a.dim(5), OC = a.dim(6);
  linear_forward(a.ctx(), a.f32(0, int64_t(N) * OC), a.f32(1, int64_t(N) * C),
                 a.f32(2, int64_t(OC) * C), a.f32_or_null(3, OC), N, C, OC);
  return info.Env().Undefined();
}

// linearBackward(dinp|null, dweight|null, dbias|null, dout, inp, weight, N, C, OC, accumulateDinp)
Napi::Value LinearBackward(const Info& info) {
  Args a(info, "linearBackward", 10);
  int N = a.dim(6), C = a.dim(7), OC = a.dim(8);
  linear_backward(a.ctx(), a.f32_or_null(0, int64_t(N) * C), a.f32_or_null(1, int64_t(OC) * C),
                  a.f32_or_null(2, OC), a.f32(3, int64_t(N) * OC), a.f32(4, int64_t(N) * C),
                  a.f32(5, int64_t(OC) * C), N, C, OC, a.flag(9));
  return info.Env().Undefined();
}

// fill(out, value, n)
Napi::Value Fill(const Info& info) {
  Args a(info, "fill", 3);
  int64_t n = a.size(2);
  a.ctx().k->fill(a.ctx(), a.f32(0, n), static_cast<float>(a.num(1)), n);
  return info.Env().Undefined();
}

// axpy(y, alpha, x, n): y += alpha * x
Napi::Value Axpy(const Info& info) {
  Args a(info, "axpy", 4);
  int64_t n = a.size(3);
  a.ctx().k->axpy(a.ctx(), a.f32(0, n), static_cast<float>(a.num(1)), a.f32(2, n), n);
  return info.Env().Undefined();
}

// unaryForward(out, inp, n, op, alpha)
Napi::Value UnaryForward(const Info& info) {
  Args a(info, "unaryForward", 5);
  int64_t n = a.size(2);
  int op = a.dim(3);
  a.check(op < unary::kCount, "unknown unary op");
  a.ctx().k->unary_forward(a.ctx(), a.f32(0, n), a.f32(1, n), n, op, static_cast<float>(a.num(4)));
  return info.Env().Undefined();
}

// unaryBackward(dinp, dout, inp, out, n, op, alpha)
Napi::Value UnaryBackward(const Info& info) {
  Args a(info, "unaryBackward", 7);
  int64_t n = a.size(4);
  int op = a.dim(5);
  a.check(op < unary::kCount, "unknown unary op");
  a.ctx().k->unary_backward(a.ctx(), a.f32(0, n), a.f32(1, n), a.f32(2, n), a.f32(3, n), n, op,
                            static_cast<float>(a.num(6)));
  return info.Env().Undefined();
}

// binaryForward(out, a, b, n, op)
Napi::Value BinaryForward(const Info& info) {
  Args a(info, "binaryForward", 5);
  int64_t n = a.size(3);
  int op = a.dim(4);
  a.check(op < binary::kCount, "unknown binary op");
  a.ctx().k->binary_forward(a.ctx(), a.f32(0, n), a.f32(1, n), a.f32(2, n), n, op);
  return info.Env().Undefined();
}

// binaryBackward(da|null, db|null, dout, a, b, n, op)
Napi::Value BinaryBackward(const Info& info) {
  Args a(info, "binaryBackward", 7);
  int64_t n = a.size(5);
  int op = a.dim(6);
  a.check(op < binary::kCount, "unknown binary op");
  a.ctx().k->binary_backward(a.ctx(), a.f32_or_null(0, n), a.f32_or_null(1, n), a.f32(2, n),
                             a.f32(3, n), a.f32(4, n), n, op);
  return info.Env().Undefined();
}

// rowwiseForward(out, a, b, N, C, op)
Napi::Value RowwiseForward(const Info& info) {
  Args a(info, "rowwiseForward", 6);
  int64_t N = a.size(3);
  int C = a.dim(4), op = a.dim(5);
  a.check(op < binary::kCount, "unknown binary op");
  a.ctx().k->rowwise_forward(a.ctx(), a.f32(0, N * C), a.f32(1, N * C), a.f32(2, C), N, C, op);
  return info.Env().Undefined();
}

// rowwiseBackward(da|null, db|null, dout, a, b, N, C, op)
Napi::Value RowwiseBackward(const Info& info) {
  Args a(info, "rowwiseBackward", 8);
  int64_t N = a.size(5);
  int C = a.dim(6), op = a.dim(7);
  a.check(op < binary::kCount, "unknown binary op");
  a.ctx().k->rowwise_backward(a.ctx(), a.f32_or_null(0, N * C), a.f32_or_null(1, C),
                              a.f32(2, N * C), a.f32(3, N * C), a.f32(4, C), N, C, op);
  return info.Env().Undefined();
}

// the largest element offset a strided walk reaches, plus one
int64_t extent(int rank, const int64_t* shape, const int64_t* strides, int64_t offset) {
  int64_t hi = offset;
  for (int d = 0; d < rank; d++) {
    if (shape[d] == 0) return 0;
    hi += (shape[d] - 1) * strides[d];
  }
  return hi + 1;
}

int64_t numel(int rank, const int64_t* shape) {
  int64_t n = 1;
  for (int d = 0; d < rank; d++) n *= shape[d];
  return n;
}

// broadcastForward(out, a, b, shape, stridesA, stridesB, op)
Napi::Value BroadcastForward(const Info& info) {
  Args a(info, "broadcastForward", 7);
  int64_t shape[kMaxRank], sa[kMaxRank], sb[kMaxRank];
  int rank = a.ints(3, shape, kMaxRank);
  a.check(a.ints(4, sa, kMaxRank) == rank && a.ints(5, sb, kMaxRank) == rank, "rank mismatch");
  int op = a.dim(6);
  a.check(op < binary::kCount, "unknown binary op");
  broadcast_binary(a.ctx(), a.f32(0, numel(rank, shape)), a.f32(1, extent(rank, shape, sa, 0)),
                   a.f32(2, extent(rank, shape, sb, 0)), rank, shape, sa, sb, op);
  return info.Env().Undefined();
}

// reduceInto(dst, src, shape, stridesDst, scale): dst[strides] += scale * src
Napi::Value ReduceInto(const Info& info) {
  Args a(info, "reduceInto", 5);
  int64_t shape[kMaxRank], sd[kMaxRank];
  int rank = a.ints(2, shape, kMaxRank);
  a.check(a.ints(3, sd, kMaxRank) == rank, "rank mismatch");
  reduce_into(a.ctx(), a.f32(0, extent(rank, shape, sd, 0)), a.f32(1, numel(rank, shape)), rank,
              shape, sd, static_cast<float>(a.num(4)));
  return info.Env().Undefined();
}

// copyStrided(out, inp, shape, strides, offset)
Napi::Value CopyStrided(const Info& info) {
  Args a(info, "copyStrided", 5);
  int64_t shape[kMaxRank], st[kMaxRank];
  int rank = a.ints(2, shape, kMaxRank);
  a.check(a.ints(3, st, kMaxRank) == rank, "rank mismatch");
  int64_t offset = a.size(4);
  copy_strided(a.ctx(), a.f32(0, numel(rank, shape)), a.f32(1, extent(rank, shape, st, offset)),
               rank, shape, st, offset);
  return info.Env().Undefined();
}

// reduceForward(out, arg|null, inp, O, D, I, op)
Napi::Value ReduceForward(const Info& info) {
  Args a(info, "reduceForward", 7);
  int64_t O = a.size(3), D = a.size(4), I = a.size(5);
  int op = a.dim(6);
  a.check(op < reduce::kCount, "unknown reduction");
  a.check(D > 0, "cannot reduce an empty axis");
  int32_t* arg = op == reduce::kMax ? a.i32(1, O * I) : a.i32_or_null(1, O * I);
  a.ctx().k->reduce_forward(a.ctx(), a.f32(0, O * I), arg, a.f32(2, O * D * I), O, D, I, op);
  return info.Env().Undefined();
}

// reduceBackward(dinp, dout, arg|null, O, D, I, op)
Napi::Value ReduceBackward(const Info& info) {
  Args a(info, "reduceBackward", 7);
  int64_t O = a.size(3), D = a.size(4), I = a.size(5);
  int op = a.dim(6);
  a.check(op < reduce::kCount, "unknown reduction");
  const int32_t* arg = op == reduce::kMax ? a.i32(2, O * I) : a.i32_or_null(2, O * I);
  if (op == reduce::kMax)
    for (int64_t i = 0; i < O * I; i++) a.check(arg[i] >= 0 && arg[i] < D, "argmax out of range");
  a.ctx().k->reduce_backward(a.ctx(), a.f32(0, O * D * I), a.f32(1, O * I), arg, O, D, I, op);
  return info.Env().Undefined();
}

// sumSquares(x, n) -> number
Napi::Value SumSquares(const Info& info) {
  Args a(info, "sumSquares", 2);
  int64_t n = a.size(1);
  return Napi::Number::New(info.Env(), a.ctx().k->sum_squares(a.ctx(), a.f32(0, n), n));
}

}  // namespace

void register_linalg(Napi::Env env, Exports exports) {
  exports.Set("gemm", Napi::Function::New(env, Gemm, "gemm"));
  exports.Set("linearForward", Napi::Function::New(env, LinearForward, "linearForward"));
  exports.Set("linearBackward", Napi::Function::New(env, LinearBackward, "linearBackward"));
  exports.Set("fill", Napi::Function::New(env, Fill, "fill"));
  exports.Set("axpy", Napi::Function::New(env, Axpy, "axpy"));
  exports.Set("unaryForward", Napi::Function::New(env, UnaryForward, "unaryForward"));
  exports.Set("unaryBackward", Napi::Function::New(env, UnaryBackward, "unaryBackward"));
  exports.Set("binaryForward", Napi::Function::New(env, BinaryForward, "binaryForward"));
  exports.Set("binaryBackward", Napi::Function::New(env, BinaryBackward, "binaryBackward"));
  exports.Set("rowwiseForward", Napi::Function::New(env, RowwiseForward, "rowwiseForward"));
  exports.Set("rowwiseBackward", Napi::Function::New(env, RowwiseBackward, "rowwiseBackward"));
  exports.Set("broadcastForward", Napi::Function::New(env, BroadcastForward, "broadcastForward"));
  exports.Set("reduceInto", Napi::Function::New(env, ReduceInto, "reduceInto"));
  exports.Set("copyStrided", Napi::Function::New(env, CopyStrided, "copyStrided"));
  exports.Set("reduceForward", Napi::Function::New(env, ReduceForward, "reduceForward"));
  exports.Set("reduceBackward", Napi::Function::New(env, ReduceBackward, "reduceBackward"));
  exports.Set("sumSquares", Napi::Function::New(env, SumSquares, "sumSquares"));
}

}  // namespace troupe
