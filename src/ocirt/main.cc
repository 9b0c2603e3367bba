// silo-runc: a runc-compatible OCI runtime CLI over Silo's runtime library.
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc > 1 && (!std::strcmp(argv[1], "--version") || !std::strcmp(argv[1], "-v"))) {
    std::printf("silo-runc version %s\nspec: 1.0.2\n", SILO_VERSION);
    return 0;
  }
  std::fprintf(stderr, "silo-runc: commands are not implemented yet\n");
  return 1;
}
