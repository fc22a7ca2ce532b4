# CPU-only build with node-gyp, for machines without CMake. The source list comes from
# sources.json, the same one CMakeLists.txt reads.
{
  "targets": [
    {
      "target_name": "frugal",
      "sources": [
        "<!@(node -p \"const s=require('./sources.json'); s.core.concat(s.no_cuda, s.addon).join(' ')\")"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/include",
        "native"
      ],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "FRUGAL_BUILDING=1"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-fno-math-errno", "-ffp-contract=off", "-Wall", "-Wextra"],
      "xcode_settings": {"GCC_ENABLE_CPP_EXCEPTIONS": "YES", "CLANG_CXX_LANGUAGE_STANDARD": "c++17"}
    }
  ]
}
