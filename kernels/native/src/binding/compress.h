// Registers the compression kernels' binding (block quantisation, fused distillation loss).
#pragma once
#include <napi.h>

namespace troupe {
void register_compress(Napi::Env env, Napi::Object exports);
}  // namespace troupe
