# The troupe kernels addon. Built by scripts/setup.mjs (node-gyp rebuild --nodedir=...).
# - troupe_kernels: the binding, the runtime, the reference and portable kernels
# - isa_avx2 / isa_avx512 (x64 only): the same optimized sources compiled with -mavx2 / -mavx512*,
#   chosen at run time from the CPU's features
# - BLAS: OpenBLAS when cblas.h and libopenblas are found (Linux), Accelerate on macOS;
#   TROUPE_BUILD_NO_BLAS=1 builds without (the blocked GEMM of src/fast/gemm.inc is used).
#   Accelerate's classic CBLAS interface, without ACCELERATE_NEW_LAPACK: that define routes
#   cblas_sgemm to symbols that exist only from macOS 13.3, a null call on 11.0-13.2, which the
#   deployment target (11.0) still covers. We call only cblas_sgemm, the same in both.
# - NODE_ADDON_API_CPP_EXCEPTIONS_ALL: a C++ exception out of any binding becomes a JS Error
#   (never std::terminate); bindings registered with expose<> get typed errors (binding/args.h)
{
  "variables": {
    "cblas_dir%": "<!(node -p \"['/usr/include/x86_64-linux-gnu','/usr/include/aarch64-linux-gnu','/usr/include','/usr/include/openblas','/usr/local/include','/opt/homebrew/opt/openblas/include'].find(d => require('fs').existsSync(d + '/cblas.h')) || ''\")",
    "openblas_lib%": "<!(node -p \"['/usr/lib/x86_64-linux-gnu','/usr/lib/aarch64-linux-gnu','/usr/lib64','/usr/lib','/usr/local/lib','/opt/homebrew/opt/openblas/lib'].find(d => ['libopenblas.so','libopenblas.dylib'].some(f => require('fs').existsSync(d + '/' + f))) || ''\")",
    "troupe_no_blas%": "<!(node -p \"process.env.TROUPE_BUILD_NO_BLAS === '1' ? 1 : 0\")"
  },
  "target_defaults": {
    "cflags_cc": ["-O3", "-fno-math-errno", "-fvisibility=hidden", "-Wall", "-Wno-unused-function"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
    "cflags": ["-fPIC"],
    "xcode_settings": {
      "OTHER_CPLUSPLUSFLAGS": ["-O3", "-fno-math-errno", "-fvisibility=hidden"],
      "CLANG_CXX_LANGUAGE_STANDARD": "gnu++17",
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "CLANG_CXX_LIBRARY": "libc++",
      "MACOSX_DEPLOYMENT_TARGET": "11.0"
    },
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL", "NODE_ADDON_API_DISABLE_DEPRECATED"]
  },
  "targets": [
    {
      "target_name": "troupe_kernels",
      "sources": [
        "src/binding/addon.cc",
        "src/binding/linalg.cc",
        "src/binding/nn.cc",
        "src/binding/loss.cc",
        "src/binding/misc.cc",
        "src/binding/compress.cc",
        "src/compress/ref.cc",
        "src/compress/fast.cc",
        "src/binding/model.cc",
        "src/core/pool.cc",
        "src/core/cpu.cc",
        "src/core/runtime.cc",
        "src/ops/gemm.cc",
        "src/ops/composite.cc",
        "src/ref/gemm.cc",
        "src/ref/elementwise.cc",
        "src/ref/norm.cc",
        "src/ref/softmax.cc",
        "src/ref/attention.cc",
        "src/ref/model.cc",
        "src/ref/optim.cc",
        "src/ref/table.cc",
        "src/isa/portable.cc"
      ],
      "conditions": [
        ["target_arch=='x64'", {
          "dependencies": ["isa_avx2", "isa_avx512"]
        }, {
          "sources": ["src/isa/avx2.cc", "src/isa/avx512.cc"]
        }],
        ["OS=='mac'", {
          "defines": ["TROUPE_HAVE_ACCELERATE"],
          "link_settings": {"libraries": ["-framework Accelerate"]}
        }],
        ["OS!='mac' and cblas_dir!='' and openblas_lib!='' and troupe_no_blas==0", {
          "defines": ["TROUPE_HAVE_CBLAS"],
          "include_dirs": ["<(cblas_dir)"],
          "libraries": ["-L<(openblas_lib)", "-lopenblas"]
        }]
      ]
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "isa_avx2",
          "type": "static_library",
          "sources": ["src/isa/avx2.cc"],
          "cflags_cc": ["-mavx2", "-mfma", "-mf16c"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma", "-mf16c"]}
        },
        {
          "target_name": "isa_avx512",
          "type": "static_library",
          "sources": ["src/isa/avx512.cc"],
          "cflags_cc": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx2", "-mfma", "-mf16c", "-mprefer-vector-width=512", "-Wno-maybe-uninitialized", "-Wno-uninitialized"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx2", "-mfma", "-mf16c"]}
        }
      ]
    }]
  ]
}
