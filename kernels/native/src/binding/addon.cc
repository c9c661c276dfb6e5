// Module entry. Each environment that loads the addon (main thread, every worker thread) gets
// its own Addon (runtime + thread pool) as instance data; a cleanup hook joins the pool's
// threads and frees it when that environment shuts down (better-sqlite3's Addon pattern).
// No process-wide state, no exit().
#include "args.h"
#include "compress.h"

namespace troupe {

void register_model(Napi::Env env, Exports exports);  // binding/model.cc

static void Cleanup(void* arg) {
  Addon* addon = static_cast<Addon*>(arg);
  addon->runtime.shutdown();
  delete addon;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Addon* addon = new Addon();
  // no finalizer: the cleanup hook owns the Addon
  NAPI_THROW_IF_FAILED(env, napi_set_instance_data(env, addon, nullptr, nullptr), exports);
  NAPI_THROW_IF_FAILED(env, napi_add_env_cleanup_hook(env, Cleanup, addon), exports);
  register_linalg(env, exports);
  register_nn(env, exports);
  register_loss(env, exports);
  register_misc(env, exports);
  register_compress(env, exports);
  register_model(env, exports);
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  return exports;
}

}  // namespace troupe

static Napi::Object InitTroupeKernels(Napi::Env env, Napi::Object exports) {
  return troupe::Init(env, exports);
}

NODE_API_MODULE(troupe_kernels, InitTroupeKernels)
