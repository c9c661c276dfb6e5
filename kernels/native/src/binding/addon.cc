// Module entry. Each environment that loads the addon (main thread, every worker thread) gets
// its own Addon (runtime + thread pool) as instance data; a cleanup hook joins the pool's
// threads and frees it when that environment shuts down (better-sqlite3's Addon pattern).
// No process-wide state, no exit().
#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include "args.h"
#include "compress.h"

namespace troupe {

void register_model(Napi::Env env, Exports exports);  // binding/model.cc

static void Cleanup(void* arg) {
  Addon* addon = static_cast<Addon*>(arg);
  addon->runtime.shutdown();
  addon->allocation_error.SuppressDestruct();  // the environment is going away with it
  delete addon;
}

static Napi::Error allocation_error(Napi::Env env, const std::string& message, size_t bytes) {
  Addon* addon = env.GetInstanceData<Addon>();
  const double b = static_cast<double>(bytes);
  if (!addon->allocation_error.IsEmpty()) {
    Napi::Object e = addon->allocation_error.New({Napi::String::New(env, message), Napi::Number::New(env, b)});
    return Napi::Error(env, e);
  }
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, "KERNEL_ALLOCATION"));
  e.Set("bytes", Napi::Number::New(env, b));
  return e;
}

void throw_native_failure(Napi::Env env, const char* name) {
  const std::string op = std::string("troupe native ") + (name ? name : "?") + ": ";
  try {
    throw;
  } catch (const AllocationError& e) {
    char mib[64];
    std::snprintf(mib, sizeof(mib), "%.1f MiB", static_cast<double>(e.bytes()) / (1 << 20));
    throw allocation_error(env, op + "cannot allocate " + mib + " of scratch memory", e.bytes());
  } catch (const std::bad_alloc&) {
    throw allocation_error(env, op + "out of memory", 0);
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, op + e.what());
  } catch (...) {
    throw Napi::Error::New(env, op + "unknown native exception");
  }
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
  exports.Set("abiVersion", Napi::Number::New(env, 2));
  return exports;
}

}  // namespace troupe

static Napi::Object InitTroupeKernels(Napi::Env env, Napi::Object exports) {
  return troupe::Init(env, exports);
}

NODE_API_MODULE(troupe_kernels, InitTroupeKernels)
