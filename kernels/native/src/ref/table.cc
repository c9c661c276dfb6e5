// The reference kernel table.
#include "../core/model_kernels.h"
#include "ref.h"

namespace troupe {

const Kernels& reference_kernels() {
  static const Kernels table = {
      "reference",
      ref::gemm,
      ref::fill,
      ref::axpy,
      ref::unary_forward,
      ref::unary_backward,
      ref::binary_forward,
      ref::binary_backward,
      ref::rowwise_forward,
      ref::rowwise_backward,
      ref::reduce_forward,
      ref::reduce_backward,
      ref::sum_squares,
      ref::dropout_forward,
      ref::dropout_backward,
      ref::embedding_forward,
      ref::embedding_backward,
      ref::layernorm_forward,
      ref::layernorm_backward,
      ref::rmsnorm_forward,
      ref::rmsnorm_backward,
      ref::softmax_forward,
      ref::softmax_backward,
      ref::attention_forward,
      ref::attention_backward,
      ref::crossentropy_forward,
      ref::crossentropy_backward,
      ref::kl_forward,
      ref::kl_backward,
      ref::bce_forward,
      ref::bce_backward,
      ref::cosine_forward,
      ref::cosine_backward,
      ref::adam_step,
      ref::sgd_step,
      ref::f32_to_f16,
      ref::f16_to_f32,
      ref::f32_to_bf16,
      ref::bf16_to_f32,
      ref::fma_peak,
      &reference_model_kernels(),
  };
  return table;
}

}  // namespace troupe
