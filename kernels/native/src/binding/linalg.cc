// Thin binding: GEMM, linear, elementwise, strided and reduction kernels. Arity, types, sizes
// (checked arithmetic) and aliasing only; the TypeScript wrappers validate shapes with
// friendly messages.
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
  a.check(batch <= 2147483647, "batch is too large");
  float* c = a.out(0, a.count({batch, M, N}));
  const float* x = a.f32(1, a.count({batch, M, K}));
  const float* y = a.f32(2, a.count({batch, K, N}));
  gemm_batched(a.ctx(), c, x, y, static_cast<int>(batch), M, N, K, a.flag(7), a.flag(8),
               static_cast<float>(a.num(9)), static_cast<float>(a.num(10)));
  return info.Env().Undefined();
}

// linearForward(out, inp, weight, bias|null, N, C, OC)
Napi::Value LinearForward(const Info& info) {
  Args a(info, "linearForward", 7);
  int N = a.dim(4), C = a.dim(5), OC = a.dim(6);
  linear_forward(a.ctx(), a.out(0, a.count({N, OC})), a.f32(1, a.count({N, C})),
                 a.f32(2, a.count({OC, C})), a.f32_or_null(3, OC), N, C, OC);
  return info.Env().Undefined();
}

// linearBackward(dinp|null, dweight|null, dbias|null, dout, inp, weight, N, C, OC, accumulateDinp)
Napi::Value LinearBackward(const Info& info) {
  Args a(info, "linearBackward", 10);
  int N = a.dim(6), C = a.dim(7), OC = a.dim(8);
  linear_backward(a.ctx(), a.out_or_null(0, a.count({N, C})), a.out_or_null(1, a.count({OC, C})),
                  a.out_or_null(2, OC), a.f32(3, a.count({N, OC})), a.f32(4, a.count({N, C})),
                  a.f32(5, a.count({OC, C})), N, C, OC, a.flag(9));
  return info.Env().Undefined();
}

// fill(out, value, n)
Napi::Value Fill(const Info& info) {
  Args a(info, "fill", 3);
  int64_t n = a.size(2);
  a.ctx().k->fill(a.ctx(), a.out(0, n), static_cast<float>(a.num(1)), n);
  return info.Env().Undefined();
}

// axpy(y, alpha, x, n): y += alpha * x
Napi::Value Axpy(const Info& info) {
  Args a(info, "axpy", 4, InPlace::kExact);
  int64_t n = a.size(3);
  a.ctx().k->axpy(a.ctx(), a.out(0, n), static_cast<float>(a.num(1)), a.f32(2, n), n);
  return info.Env().Undefined();
}

// unaryForward(out, inp, n, op, alpha)
Napi::Value UnaryForward(const Info& info) {
  Args a(info, "unaryForward", 5, InPlace::kExact);
  int64_t n = a.size(2);
  int op = a.dim(3);
  a.check(op < unary::kCount, "unknown unary op");
  a.ctx().k->unary_forward(a.ctx(), a.out(0, n), a.f32(1, n), n, op, static_cast<float>(a.num(4)));
  return info.Env().Undefined();
}

// unaryBackward(dinp, dout, inp, out, n, op, alpha)
Napi::Value UnaryBackward(const Info& info) {
  Args a(info, "unaryBackward", 7, InPlace::kExact);
  int64_t n = a.size(4);
  int op = a.dim(5);
  a.check(op < unary::kCount, "unknown unary op");
  a.ctx().k->unary_backward(a.ctx(), a.out(0, n), a.f32(1, n), a.f32(2, n), a.f32(3, n), n, op,
                            static_cast<float>(a.num(6)));
  return info.Env().Undefined();
}

// binaryForward(out, a, b, n, op)
Napi::Value BinaryForward(const Info& info) {
  Args a(info, "binaryForward", 5, InPlace::kExact);
  int64_t n = a.size(3);
  int op = a.dim(4);
  a.check(op < binary::kCount, "unknown binary op");
  a.ctx().k->binary_forward(a.ctx(), a.out(0, n), a.f32(1, n), a.f32(2, n), n, op);
  return info.Env().Undefined();
}

// binaryBackward(da|null, db|null, dout, a, b, n, op)
Napi::Value BinaryBackward(const Info& info) {
  Args a(info, "binaryBackward", 7, InPlace::kExact);  // da and db are one buffer for x * x
  int64_t n = a.size(5);
  int op = a.dim(6);
  a.check(op < binary::kCount, "unknown binary op");
  a.ctx().k->binary_backward(a.ctx(), a.out_or_null(0, n), a.out_or_null(1, n), a.f32(2, n),
                             a.f32(3, n), a.f32(4, n), n, op);
  return info.Env().Undefined();
}

// rowwiseForward(out, a, b, N, C, op)
Napi::Value RowwiseForward(const Info& info) {
  Args a(info, "rowwiseForward", 6, InPlace::kExact);
  int64_t N = a.size(3);
  int C = a.dim(4), op = a.dim(5);
  a.check(op < binary::kCount, "unknown binary op");
  a.ctx().k->rowwise_forward(a.ctx(), a.out(0, a.count({N, C})), a.f32(1, a.count({N, C})), a.f32(2, C), N, C, op);
  return info.Env().Undefined();
}

// rowwiseBackward(da|null, db|null, dout, a, b, N, C, op)
Napi::Value RowwiseBackward(const Info& info) {
  Args a(info, "rowwiseBackward", 8);
  int64_t N = a.size(5);
  int C = a.dim(6), op = a.dim(7);
  a.check(op < binary::kCount, "unknown binary op");
  const int64_t NC = a.count({N, C});
  a.ctx().k->rowwise_backward(a.ctx(), a.out_or_null(0, NC), a.out_or_null(1, C),
                              a.f32(2, NC), a.f32(3, NC), a.f32(4, C), N, C, op);
  return info.Env().Undefined();
}

// broadcastForward(out, a, b, shape, stridesA, stridesB, op)
Napi::Value BroadcastForward(const Info& info) {
  Args a(info, "broadcastForward", 7);
  int64_t shape[kMaxRank], sa[kMaxRank], sb[kMaxRank];
  int rank = a.ints(3, shape, kMaxRank);
  a.check(a.ints(4, sa, kMaxRank) == rank && a.ints(5, sb, kMaxRank) == rank, "rank mismatch");
  int op = a.dim(6);
  a.check(op < binary::kCount, "unknown binary op");
  broadcast_binary(a.ctx(), a.out(0, a.numel(rank, shape)), a.f32(1, a.extent(rank, shape, sa, 0)),
                   a.f32(2, a.extent(rank, shape, sb, 0)), rank, shape, sa, sb, op);
  return info.Env().Undefined();
}

// reduceInto(dst, src, shape, stridesDst, scale): dst[strides] += scale * src
Napi::Value ReduceInto(const Info& info) {
  Args a(info, "reduceInto", 5);
  int64_t shape[kMaxRank], sd[kMaxRank];
  int rank = a.ints(2, shape, kMaxRank);
  a.check(a.ints(3, sd, kMaxRank) == rank, "rank mismatch");
  reduce_into(a.ctx(), a.out(0, a.extent(rank, shape, sd, 0)), a.f32(1, a.numel(rank, shape)), rank,
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
  copy_strided(a.ctx(), a.out(0, a.numel(rank, shape)), a.f32(1, a.extent(rank, shape, st, offset)),
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
  const int64_t OI = a.count({O, I});
  int32_t* arg = op == reduce::kMax ? a.out_i32(1, OI) : a.out_i32_or_null(1, OI);
  a.ctx().k->reduce_forward(a.ctx(), a.out(0, OI), arg, a.f32(2, a.count({O, D, I})), O, D, I, op);
  return info.Env().Undefined();
}

// reduceBackward(dinp, dout, arg|null, O, D, I, op)
Napi::Value ReduceBackward(const Info& info) {
  Args a(info, "reduceBackward", 7);
  int64_t O = a.size(3), D = a.size(4), I = a.size(5);
  int op = a.dim(6);
  a.check(op < reduce::kCount, "unknown reduction");
  const int64_t OI = a.count({O, I});
  const int32_t* arg = op == reduce::kMax ? a.i32(2, OI) : a.i32_or_null(2, OI);
  if (op == reduce::kMax)
    for (int64_t i = 0; i < OI; i++) a.check(arg[i] >= 0 && arg[i] < D, "argmax out of range");
  a.ctx().k->reduce_backward(a.ctx(), a.out(0, a.count({O, D, I})), a.f32(1, OI), arg, O, D, I, op);
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
  expose<Gemm>(env, exports, "gemm");
  expose<LinearForward>(env, exports, "linearForward");
  expose<LinearBackward>(env, exports, "linearBackward");
  expose<Fill>(env, exports, "fill");
  expose<Axpy>(env, exports, "axpy");
  expose<UnaryForward>(env, exports, "unaryForward");
  expose<UnaryBackward>(env, exports, "unaryBackward");
  expose<BinaryForward>(env, exports, "binaryForward");
  expose<BinaryBackward>(env, exports, "binaryBackward");
  expose<RowwiseForward>(env, exports, "rowwiseForward");
  expose<RowwiseBackward>(env, exports, "rowwiseBackward");
  expose<BroadcastForward>(env, exports, "broadcastForward");
  expose<ReduceInto>(env, exports, "reduceInto");
  expose<CopyStrided>(env, exports, "copyStrided");
  expose<ReduceForward>(env, exports, "reduceForward");
  expose<ReduceBackward>(env, exports, "reduceBackward");
  expose<SumSquares>(env, exports, "sumSquares");
}

}  // namespace troupe
